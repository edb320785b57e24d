"""The deal funnel's shape: every stage in the contract's order, zeros included."""

from __future__ import annotations

from api.analytics.deal_funnel import StageCount, funnel_of
from streams.masterdeal.stages import STAGES


def test_every_stage_in_order_with_zeros_and_totals() -> None:
    funnel = funnel_of(
        {"closed": StageCount("closed", 4, 0), "briefed": StageCount("briefed", 3, 2)}
    )

    assert [s.stage for s in funnel.stages] == list(STAGES)
    assert [(s.deals, s.breached) for s in funnel.stages] == [
        (0, 0),
        (3, 2),
        (0, 0),
        (0, 0),
        (0, 0),
        (4, 0),
    ]
    assert (funnel.deals, funnel.breached) == (7, 2)


def test_no_deals() -> None:
    funnel = funnel_of({})

    assert (funnel.deals, funnel.breached) == (0, 0)
    assert len(funnel.stages) == len(STAGES)
