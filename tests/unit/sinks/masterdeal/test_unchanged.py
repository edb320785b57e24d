"""A re-fold sends only the history and domain-status rows its kept state did not write."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from sinks.masterdeal.unchanged import changed_domain_statuses, changed_history, latest_by_domain
from streams.masterdeal.events import DealEvent
from streams.masterdeal.fold import DealState, fold_deal, latest_event_time
from streams.masterdeal.sla_policy import SlaPolicy
from tests.support.clock import DEAL_T0 as T0
from tests.support.deals import DEAL_ID, PIPELINE


def fold(events: list[DealEvent]) -> DealState:
    return fold_deal(events, sla=SlaPolicy(), now=latest_event_time(events))


def history_keys(state: DealState, written: dict[str, DealState]) -> list[str]:
    return [h.event.event_key for _, h in changed_history([state], written)]


def test_without_a_kept_state_every_row_is_sent() -> None:
    state = fold(PIPELINE)

    assert history_keys(state, {}) == [e.event_key for e in PIPELINE]
    assert changed_domain_statuses([state], {}) == [
        (state.master_deal_id, e) for e in latest_by_domain(state).values()
    ]


def test_a_new_event_sends_its_own_rows_only() -> None:
    before, after = fold(PIPELINE[:4]), fold(PIPELINE[:5])

    assert history_keys(after, {DEAL_ID: before}) == [PIPELINE[4].event_key]
    assert changed_domain_statuses([after], {DEAL_ID: before}) == [
        (after.master_deal_id, PIPELINE[4])
    ]
    assert history_keys(after, {DEAL_ID: after}) == []
    assert changed_domain_statuses([after], {DEAL_ID: after}) == []


def test_a_late_event_resends_the_entries_it_changed() -> None:
    # The signature arrives after the approval it preceded: the approval now moves the stage.
    before = fold([PIPELINE[0], PIPELINE[4]])
    after = fold([PIPELINE[0], PIPELINE[3], PIPELINE[4]])

    assert history_keys(after, {DEAL_ID: before}) == [
        PIPELINE[3].event_key,
        PIPELINE[4].event_key,
    ]


def test_held_events_are_sent_once_the_deal_is_created() -> None:
    early = replace(PIPELINE[1], occurred_at=T0 - timedelta(hours=1))
    before = fold([early])
    after = fold([early, PIPELINE[0]])

    assert before.stage is None
    assert history_keys(after, {DEAL_ID: before}) == [early.event_key, PIPELINE[0].event_key]


def test_a_moved_master_deal_id_sends_every_row() -> None:
    before = fold(PIPELINE[:3])
    renamed = [replace(PIPELINE[0], master_deal_id="MD-OTHER"), *PIPELINE[1:4]]
    after = fold(renamed)

    assert history_keys(after, {DEAL_ID: before}) == [e.event_key for e in renamed]


@given(st.sets(st.integers(min_value=0, max_value=len(PIPELINE) - 1), min_size=1))
def test_rows_before_plus_changed_rows_are_the_rows_after(kept: set[int]) -> None:
    earlier = [PIPELINE[i] for i in sorted(kept)]
    before, after = fold(earlier), fold(PIPELINE)
    if before.stage is None:
        return
    rows = {h.event.event_key: h for h in before.history}
    rows.update((h.event.event_key, h) for _, h in changed_history([after], {DEAL_ID: before}))
    statuses = latest_by_domain(before)
    statuses.update((e.domain, e) for _, e in changed_domain_statuses([after], {DEAL_ID: before}))

    assert sorted(rows.values(), key=lambda h: h.event.order) == list(after.history)
    assert statuses == latest_by_domain(after)
