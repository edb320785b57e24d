"""Contact-centre KPIs: section 7's definitions by hand-computed figures, and exact roll-ups."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.contact_centre.attribution import Attribution, bucket_figures
from streams.contact_centre.depth import queue_depth_trend
from streams.contact_centre.figures import IntervalFigures, kpis, rollup, total
from streams.contact_centre.filters import Filter
from streams.contact_centre.queue_sessions import Outcome, QueueSession
from streams.telephony.wrapups import WrapUp
from tests.support.clock import T0
from tests.support.sessions import queue_session


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def session(
    call: str, enqueued: float, outcome: Outcome | None, wait: float | None = None, **facts: Any
) -> QueueSession:
    """A session enqueued `enqueued` seconds after T0 (see `queue_session`)."""
    return queue_session(call, at(enqueued), outcome, wait, **facts)


# One quarter hour of the support queue, SLA 20 s.
QUARTER = [
    session("a", 0, Outcome.ANSWERED, 10, talk=100, agent="SIP/151"),
    session("b", 60, Outcome.ANSWERED, 30, talk=200, agent="SIP/152"),
    session("c", 120, Outcome.ABANDONED, 40),
    session("d", 180, Outcome.SHORT_ABANDONED, 5),
    session("e", 240, Outcome.FLOW_OUT, 60),
    session("f", 300, None),
]
WRAPUP = WrapUp(enterprise_id="0367", agent_id="SIP/151", started_at=at(110), duration_sec=30)


def quarter_kpis(**options: object) -> dict[str, float | int | None]:
    buckets = bucket_figures(QUARTER, wrapups=[WRAPUP], **options)  # type: ignore[arg-type]
    return kpis(total(buckets.values())).to_json()


def test_the_quarter_hour_by_hand() -> None:
    assert quarter_kpis() == {
        "offered": 6,  # the open session entered too
        "answered": 2,
        "abandoned": 1,
        "shortAbandoned": 1,
        "flowOut": 1,
        "blocked": 0,
        "asaSec": 20.0,  # (10 + 30) / 2
        "avgWaitSec": pytest.approx(80 / 3),  # (10 + 30 + 40) / 3; short abandons left out
        "slaPct": pytest.approx(100 / 3),  # 1 within 20 s / (2 answered + 1 abandoned)
        "abandonRatePct": 20.0,  # 1 / (6 offered - 1 short)
        "ahtSec": 165.0,  # (100 + 200 talk + 30 wrap-up) / 2 handled
        "responseSec": None,  # no digital messages: not connected
    }


def test_the_sla_threshold_can_be_overridden_or_set_per_queue() -> None:
    assert quarter_kpis(sla_threshold_sec=30)["slaPct"] == pytest.approx(200 / 3)
    assert quarter_kpis(sla_threshold_sec={"support": 5})["slaPct"] == 0.0
    assert quarter_kpis(sla_threshold_sec={"sales": 5})["slaPct"] == pytest.approx(100 / 3)


def test_without_queue_events_the_queue_metrics_are_null_not_zero() -> None:
    figures = kpis(IntervalFigures())
    assert set(figures.to_json().values()) == {None}


def test_a_zero_denominator_is_null() -> None:
    only_flow_out = total(bucket_figures([session("e", 0, Outcome.FLOW_OUT, 60)]).values())
    result = kpis(only_flow_out).to_json()
    assert (result["offered"], result["flowOut"]) == (1, 1)
    assert result["asaSec"] is None and result["avgWaitSec"] is None and result["slaPct"] is None
    assert result["ahtSec"] is None
    assert result["abandonRatePct"] == 0.0


def test_an_answered_call_still_talking_is_not_handled_yet() -> None:
    figures = total(bucket_figures([session("a", 0, Outcome.ANSWERED, 10)]).values())
    assert (figures.answered, figures.handled) == (1, 0)
    assert kpis(figures).aht_sec is None


def test_attribution_by_enqueue_or_by_completion() -> None:
    late = session("late", 14 * 60 + 50, Outcome.ANSWERED, 20)  # enters 10:14:50, answered 10:15:10
    by_enqueue = bucket_figures([late])
    by_completion = bucket_figures([late], attribution=Attribution.COMPLETION)
    assert list(by_enqueue) == [T0]
    assert list(by_completion) == [at(15 * 60)]


def test_an_open_session_counts_nowhere_by_completion() -> None:
    assert bucket_figures([session("f", 0, None)], attribution=Attribution.COMPLETION) == {}


def test_filters_select_sessions_and_wrap_ups() -> None:
    by_agent = total(
        bucket_figures(QUARTER, wrapups=[WRAPUP], where=Filter(agent_id="SIP/151")).values()
    )
    assert (by_agent.offered, by_agent.answered, by_agent.talk_sec, by_agent.wrapup_sec) == (
        1,
        1,
        100,
        30,
    )
    # The wrap-up names no queue, so a queue filter cannot claim it.
    by_queue = total(
        bucket_figures(QUARTER, wrapups=[WRAPUP], where=Filter(queue_id="support")).values()
    )
    assert (by_queue.offered, by_queue.wrapup_sec) == (6, 0)


def test_queue_depth_is_sampled_at_each_bucket_start_with_the_oldest_wait() -> None:
    sessions = [
        session("x", -100, Outcome.ANSWERED, 1001),  # 09:58:20 to 10:15:01
        session("w", -100, Outcome.ANSWERED, 1000),  # gone at 10:15:00 sharp
        session("y", 10, None),  # still waiting
        session("z", 20, Outcome.ABANDONED, 30),
    ]
    samples = queue_depth_trend(sessions, T0, at(45 * 60))
    assert [(s.ts, s.waiting, s.oldest_wait_sec) for s in samples] == [
        (T0, 2, 100.0),
        (at(15 * 60), 2, 15 * 60 + 100.0),
        (at(30 * 60), 1, 30 * 60 - 10.0),
    ]


# -- exactness of roll-ups: bucket figures added up equal the figures computed over everything --

sessions_strategy = st.lists(
    st.builds(
        session,
        call=st.text("abcdef", min_size=1, max_size=4),
        enqueued=st.integers(0, 3 * 86_400),
        outcome=st.sampled_from([*Outcome, None]),
        wait=st.integers(0, 900),
        talk=st.none() | st.integers(0, 3600),
        queue=st.sampled_from(["support", "sales"]),
    ),
    max_size=40,
)


@given(sessions_strategy, st.sampled_from(["30m", "1h", "1d"]), st.sampled_from(list(Attribution)))
def test_rolling_up_quarter_hours_equals_computing_at_the_coarse_interval(
    sessions: list[QueueSession], interval: str, attribution: Attribution
) -> None:
    thresholds = {"support": 20.0, "sales": 45.0}
    fine = bucket_figures(sessions, attribution=attribution, sla_threshold_sec=thresholds)
    coarse = bucket_figures(
        sessions, interval=interval, attribution=attribution, sla_threshold_sec=thresholds
    )
    assert rollup(fine, interval) == coarse
    everything = kpis(total(coarse.values()))
    assert kpis(total(fine.values())) == everything


figures_strategy = st.builds(
    IntervalFigures,
    queue_connected=st.booleans(),
    offered=st.integers(0, 9),
    talk_sec=st.integers(0, 99).map(float),
    response_samples=st.lists(st.integers(0, 60).map(float)).map(lambda v: tuple(sorted(v))),
)


@given(st.lists(figures_strategy))
def test_merge_is_order_independent(figures: list[IntervalFigures]) -> None:
    assert total(figures) == total(reversed(figures))
