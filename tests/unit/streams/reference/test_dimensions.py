"""SCD2 dimension history: the master source wins, and the history is a function of the set."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.reference.dimensions import (
    DimensionEvent,
    DimensionVersion,
    parse_dimension_masters,
    scd2_versions,
    thresholds_changed_since,
    versions_by_member,
)
from tests.support.clock import MONTH_START as T0


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def event(
    n: int, when: float, source: str, name: str, *, deleted: bool = False, **attributes: str
) -> DimensionEvent:
    return DimensionEvent(
        event_key=f"{source}:{n}",
        source_system=source,
        event_id=str(n),
        occurred_at=day(when),
        enterprise_id="0367",
        kind="agent",
        id="SIP/150",
        name=name,
        attributes=attributes,
        deleted=deleted,
    )


def summary(versions: list[DimensionVersion]) -> list[tuple[str, str, datetime, datetime | None]]:
    return [(v.name, v.source_system, v.valid_from, v.valid_to) for v in versions]


def test_from_record_takes_a_missing_enterprise_as_global() -> None:
    record = {
        "event_id": "e1",
        "source_system": "hr",
        "occurred_at": T0,
        "enterprise_id": None,
        "kind": "queue",
        "id": "support",
        "name": "Support",
        "parent_id": None,
        "attributes": {"sla_threshold_sec": "30"},
        "deleted": False,
    }
    got = DimensionEvent.from_record("hr:e1", record)
    assert got.member == ("", "queue", "support")
    assert got.attributes == {"sla_threshold_sec": "30"}


def test_each_change_starts_a_version_that_lasts_until_the_next() -> None:
    versions = scd2_versions(
        [event(1, 0, "hr", "Anna"), event(2, 5, "hr", "Anna K."), event(3, 9, "hr", "Anna")],
        "hr",
    )
    assert summary(versions) == [
        ("Anna", "hr", day(0), day(5)),
        ("Anna K.", "hr", day(5), day(9)),
        ("Anna", "hr", day(9), None),
    ]


def test_a_repeated_sync_of_the_same_state_is_one_version() -> None:
    versions = scd2_versions([event(n, n, "hr", "Anna") for n in range(5)], "hr")
    assert summary(versions) == [("Anna", "hr", day(0), None)]


def test_the_master_wins_a_conflict_once_it_has_spoken() -> None:
    versions = scd2_versions(
        [
            event(1, 0, "crm", "anna"),  # nobody else yet: the CRM's name stands
            event(2, 2, "hr", "Anna Ivanova"),  # the master speaks: it wins from now on
            event(3, 4, "crm", "Anna (sales)"),  # ignored: the master has spoken
            event(4, 6, "hr", "Anna Petrova"),
        ],
        "hr",
    )
    assert summary(versions) == [
        ("anna", "crm", day(0), day(2)),
        ("Anna Ivanova", "hr", day(2), day(6)),
        ("Anna Petrova", "hr", day(6), None),
    ]


def test_without_a_master_the_latest_source_wins() -> None:
    versions = scd2_versions([event(1, 0, "crm", "anna"), event(2, 2, "wfm", "Anna")], None)
    assert summary(versions) == [("anna", "crm", day(0), day(2)), ("Anna", "wfm", day(2), None)]


def test_at_one_instant_the_master_wins_and_then_the_event_key() -> None:
    versions = scd2_versions(
        [event(2, 0, "hr", "B"), event(1, 0, "hr", "A"), event(9, 0, "zzz", "Z")], "hr"
    )
    assert summary(versions) == [("B", "hr", day(0), None)]


def test_a_deletion_is_a_version_and_a_comeback_is_another() -> None:
    versions = scd2_versions(
        [
            event(1, 0, "hr", "Anna"),
            event(2, 3, "hr", "Anna", deleted=True),
            event(3, 7, "hr", "Anna"),
        ],
        "hr",
    )
    assert [(v.deleted, v.valid_from, v.valid_to) for v in versions] == [
        (False, day(0), day(3)),
        (True, day(3), day(7)),
        (False, day(7), None),
    ]


def test_events_of_two_members_are_refused() -> None:
    with pytest.raises(ValueError, match="several members"):
        scd2_versions([event(1, 0, "hr", "A"), replace(event(2, 0, "hr", "B"), id="SIP/151")], "hr")


def test_versions_by_member_uses_each_kinds_master() -> None:
    queue = replace(event(1, 0, "routing", "Support"), kind="queue", id="support")
    queue_crm = replace(event(2, 1, "crm", "support?"), kind="queue", id="support")
    got = versions_by_member([queue, queue_crm], {"queue": "routing"})
    assert summary(got[("0367", "queue", "support")]) == [("Support", "routing", day(0), None)]


SOURCES = ("hr", "crm", "wfm")
EVENTS = st.lists(
    st.builds(
        event,
        n=st.integers(0, 30),
        when=st.integers(0, 10),
        source=st.sampled_from(SOURCES),
        name=st.sampled_from(["A", "B", "C"]),
        deleted=st.booleans(),
    ),
    max_size=20,
).map(lambda events: list({e.event_key: e for e in events}.values()))


@given(EVENTS, st.randoms(), st.lists(st.integers(0, 19), max_size=5))
def test_the_history_ignores_order_and_duplicates(
    events: list[DimensionEvent], rng: Random, repeats: list[int]
) -> None:
    shuffled = list(events) + [events[i] for i in repeats if i < len(events)]
    rng.shuffle(shuffled)
    assert scd2_versions(shuffled, "hr") == scd2_versions(events, "hr")


@given(EVENTS, st.sampled_from(SOURCES))
def test_the_version_at_any_instant_is_the_masters_latest_word_else_anyones(
    events: list[DimensionEvent], master: str
) -> None:
    versions = scd2_versions(events, master)
    for instant in sorted({e.occurred_at for e in events}):
        so_far = sorted(
            (e for e in events if e.occurred_at <= instant),
            key=lambda e: (e.occurred_at, e.event_key),
        )
        from_master = [e for e in so_far if e.source_system == master]
        expected = (from_master or so_far)[-1]
        (valid,) = [v for v in versions if v.valid_at(instant)]
        assert (valid.name, valid.deleted, valid.source_system) == (
            expected.name,
            expected.deleted,
            expected.source_system,
        )


@given(EVENTS)
def test_versions_tile_time_without_gaps_or_repeats(events: list[DimensionEvent]) -> None:
    versions = scd2_versions(events, "hr")
    for earlier, later in itertools.pairwise(versions):
        assert earlier.valid_to == later.valid_from
        assert (earlier.name, earlier.deleted, earlier.source_system) != (
            later.name,
            later.deleted,
            later.source_system,
        )
    assert not versions or versions[-1].valid_to is None


def test_masters_parse_from_the_setting() -> None:
    assert parse_dimension_masters(
        "agent=hr, department=hr,queue=routing,channel=routing,topic=crm"
    ) == {
        "agent": "hr",
        "department": "hr",
        "queue": "routing",
        "channel": "routing",
        "topic": "crm",
    }
    assert parse_dimension_masters("") == {}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("agent", "expected kind=source_system"),
        ("team=hr", "unknown kind"),
        ("agent=hr,agent=x", "twice"),
        ("agent=", "expected"),
    ],
)
def test_bad_masters_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_dimension_masters(text)


def queue_version(when: float, until: float | None, **attributes: str) -> DimensionVersion:
    return DimensionVersion(
        enterprise_id="0367",
        kind="queue",
        id="support",
        name="Support",
        parent_id=None,
        attributes=attributes,
        deleted=False,
        source_system="routing",
        valid_from=day(when),
        valid_to=None if until is None else day(until),
    )


def test_a_threshold_change_is_found_from_the_instant_it_applies() -> None:
    before = [queue_version(0, None, sla_threshold_sec="20")]
    after = [
        queue_version(0, 4, sla_threshold_sec="20"),
        queue_version(4, None, sla_threshold_sec="30"),
    ]
    assert thresholds_changed_since(before, after) == day(4)


def test_a_rename_does_not_move_the_thresholds() -> None:
    before = [queue_version(0, None, sla_threshold_sec="20")]
    after = [
        queue_version(0, 4, sla_threshold_sec="20"),
        replace(queue_version(4, None, sla_threshold_sec="20"), name="Help"),
    ]
    assert thresholds_changed_since(before, after) is None


def test_a_first_version_earlier_than_the_known_ones_is_a_change_from_then() -> None:
    before = [queue_version(5, None, short_abandon_sec="5")]
    after = [
        queue_version(1, 5, short_abandon_sec="8"),
        queue_version(5, None, short_abandon_sec="5"),
    ]
    assert thresholds_changed_since(before, after) == day(1)
    assert thresholds_changed_since([], [queue_version(2, None)]) == day(2)
