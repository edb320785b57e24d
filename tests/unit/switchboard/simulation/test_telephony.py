"""The telephony generator: seeded, well-formed Asterisk calls and queue sessions, untidy on
purpose."""

from __future__ import annotations

import io
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import fastavro
import orjson
import pytest

from schemas.topics import TELEPHONY_CALLS, TELEPHONY_QUEUE, topic
from schemas.validate import validation_error
from switchboard.simulation import SimEvent, Timeline
from switchboard.simulation.telephony import (
    CALLS_TOPIC,
    QUEUE_TOPIC,
    Anomalies,
    TelephonyScenario,
)

START = datetime(2025, 6, 4, 9, 0, tzinfo=UTC)
TIDY = Anomalies(duplicate=0, reordered=0, downloaded_copy=0, downloaded_only=0)
QUEUE_OUTCOMES = {"connect", "abandon", "exit_timeout", "exit_empty"}


def simulate(
    seed: int = 42,
    *,
    rate: float = 2.0,
    until: float = 600.0,
    start: datetime = START,
    anomalies: Anomalies | None = None,
    enterprises: tuple[str, ...] = ("0367", "0368", "0412"),
) -> list[SimEvent]:
    rng = random.Random(seed)
    calls = TelephonyScenario(
        rng, start, rate, enterprises=enterprises, anomalies=anomalies or Anomalies()
    )
    return list(Timeline(rng, [calls], until=until))


# The structural properties hold for any seed; a few are checked on every one of these.
SEEDS = (42, 1, 2024)


@cache
def default_stream(seed: int = 42) -> tuple[SimEvent, ...]:
    return tuple(simulate(seed))


@cache
def tidy_stream(seed: int = 42) -> tuple[SimEvent, ...]:
    return tuple(simulate(seed, anomalies=TIDY))


def distinct(events: Iterable[SimEvent]) -> list[SimEvent]:
    """One of each event_id: what a consumer keeps after deduplication."""
    seen: dict[str, SimEvent] = {}
    for event in events:
        seen.setdefault(event.record["event_id"], event)
    return list(seen.values())


def by_call(events: Iterable[SimEvent], topic_name: str) -> dict[tuple[str, str], list[SimEvent]]:
    """Events of one topic grouped per (call_id, data_source), in event time."""
    calls: dict[tuple[str, str], list[SimEvent]] = defaultdict(list)
    for event in events:
        if event.topic == topic_name:
            calls[event.key, event.record.get("data_source", "live")].append(event)
    for group in calls.values():
        group.sort(key=lambda e: e.record["occurred_at"])
    return calls


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def test_the_same_seed_gives_the_same_stream() -> None:
    assert simulate(7, until=120) == simulate(7, until=120)
    assert simulate(7, until=120) != simulate(8, until=120)


def test_a_later_start_shifts_the_times_and_nothing_else() -> None:
    early = simulate(7, until=120)
    late = simulate(7, until=120, start=START + timedelta(days=1))

    assert [e.due for e in early] == [e.due for e in late]
    for a, b in zip(early, late, strict=True):
        assert b.record["occurred_at"] - a.record["occurred_at"] == timedelta(days=1)
        assert a.record["event_type"] == b.record["event_type"]


@pytest.mark.parametrize("seed", SEEDS)
def test_every_record_is_valid_on_its_topic_and_keyed_by_call_id(seed: int) -> None:
    for event in default_stream(seed):
        schema = fastavro.parse_schema(topic(event.topic).schema)
        fastavro.schemaless_writer(io.BytesIO(), schema, event.record, strict=True)
        assert validation_error(topic(event.topic), event.record) is None
        assert event.key == event.record["call_id"] == topic(event.topic).key_of(event.record)
        assert event.record["source_system"] == "asterisk"
        # Times are whole milliseconds, as Avro keeps them.
        assert event.record["occurred_at"].microsecond % 1000 == 0


def test_the_stream_is_delivered_in_due_order() -> None:
    dues = [event.due for event in default_stream()]
    assert dues == sorted(dues)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_call_has_one_start_then_dials_then_a_bridge_then_one_hangup(seed: int) -> None:
    for (call_id, _), events in by_call(distinct(default_stream(seed)), CALLS_TOPIC).items():
        types = [e.record["event_type"] for e in events]
        assert types[0] == "start" and types.count("start") == 1, call_id
        assert types[-1] == "hangup" and types.count("hangup") == 1, call_id
        assert types.count("bridge") <= 1, call_id
        if "bridge" in types:
            assert types.index("bridge") > last_index(types, "dial"), call_id
        hangup = events[-1].record
        assert (hangup["call_status"] == "answered") == ("bridge" in types), call_id
        assert {e.record["call_type"] for e in events} == {events[0].record["call_type"]}


@pytest.mark.parametrize("seed", SEEDS)
def test_incoming_calls_ring_a_group_of_one_to_four_extensions(seed: int) -> None:
    incoming = [
        events
        for events in by_call(distinct(tidy_stream(seed)), CALLS_TOPIC).values()
        if events[0].record["call_type"] == "incoming"
    ]
    assert incoming
    sizes: Counter[int] = Counter()
    for events in incoming:
        start = events[0].record
        assert start["phone_number"].startswith("+375") and start["trunk"]
        assert 1 <= len(start["extensions"]) <= 4
        sizes[len(start["extensions"])] += 1
        dialled = [e.record["extension"] for e in events if e.record["event_type"] == "dial"]
        if events[-1].record["call_status"] != "failed":
            assert dialled == start["extensions"]  # each extension rung, in ring order
        bridge = [e.record for e in events if e.record["event_type"] == "bridge"]
        if bridge:
            assert bridge[0]["extension"] in start["extensions"]
            assert events[-1].record["extension"] == bridge[0]["extension"]
    assert set(sizes) == {1, 2, 3, 4}


@pytest.mark.parametrize("seed", SEEDS)
def test_ring_and_talk_times_are_realistic(seed: int) -> None:
    for events in by_call(distinct(tidy_stream(seed)), CALLS_TOPIC).values():
        times = {e.record["event_type"]: e.record["occurred_at"] for e in events}
        if "bridge" in times:
            first_dial = min(
                e.record["occurred_at"] for e in events if e.record["event_type"] == "dial"
            )
            assert 2 <= seconds(times["bridge"], first_dial) <= 30
            assert 20 <= seconds(times["hangup"], times["bridge"]) <= 600


def test_the_mix_of_call_types_and_outcomes() -> None:
    calls = by_call(distinct(tidy_stream()), CALLS_TOPIC)
    types = Counter(events[0].record["call_type"] for events in calls.values())
    statuses = Counter(events[-1].record["call_status"] for events in calls.values())

    assert types["incoming"] > types["outgoing"] > types["internal"] > 0
    assert statuses["answered"] > statuses["no_answer"] > 0
    assert statuses["busy"] > 0 and statuses["failed"] > 0
    internal = [
        events[0].record for events in calls.values() if events[0].record["call_type"] == "internal"
    ]
    assert all(r["phone_number"] is None and r["trunk"] is None for r in internal)


def test_tenants_keep_their_own_asterisk_host() -> None:
    hosts: defaultdict[str, set[str]] = defaultdict(set)
    for event in tidy_stream():
        if event.topic == CALLS_TOPIC:
            hosts[event.record["enterprise_id"]].add(event.record["asterisk_host"])
    assert set(hosts) == {"0367", "0368", "0412"}
    assert all(len(h) == 1 for h in hosts.values())
    assert len(set().union(*hosts.values())) == 3


def test_raw_is_the_asterisk_payload_as_json_text() -> None:
    for event in tidy_stream():
        if event.topic == CALLS_TOPIC:
            raw = orjson.loads(event.record["raw"])
            assert raw["UniqueId"] == event.record["call_id"]
            assert raw["Event"] == event.record["event_type"]
            assert raw["Host"] == event.record["asterisk_host"]


@pytest.mark.parametrize("seed", SEEDS)
def test_incoming_calls_have_one_queue_session_with_one_outcome(seed: int) -> None:
    calls = by_call(distinct(tidy_stream(seed)), CALLS_TOPIC)
    sessions = by_call(distinct(tidy_stream(seed)), QUEUE_TOPIC)
    assert sessions
    for (call_id, _), queue in sessions.items():
        call = calls[call_id, "live"]
        hangup = call[-1].record
        assert call[0].record["call_type"] == "incoming"
        types = [e.record["event_type"] for e in queue]
        assert types[0] == "enqueue"
        outcomes = [t for t in types if t in QUEUE_OUTCOMES]
        assert len(outcomes) == 1, (call_id, types)
        assert len({e.record["queue_id"] for e in queue}) == 1
        assert {e.record["enterprise_id"] for e in queue} == {hangup["enterprise_id"]}
        expected = {
            "connect": "answered",
            "abandon": "no_answer",
            "exit_timeout": "no_answer",
            "exit_empty": "busy",
        }[outcomes[0]]
        assert hangup["call_status"] == expected, (call_id, types)


@pytest.mark.parametrize("seed", SEEDS)
def test_answered_sessions_carry_the_sources_wait_and_talk_figures(seed: int) -> None:
    calls = by_call(distinct(tidy_stream(seed)), CALLS_TOPIC)
    answered = 0
    for (call_id, _), queue in by_call(distinct(tidy_stream(seed)), QUEUE_TOPIC).items():
        records = {e.record["event_type"]: e.record for e in queue}
        if "connect" not in records:
            continue
        answered += 1
        enqueue, connect = records["enqueue"], records["connect"]
        (completed,) = [r for t, r in records.items() if t.startswith("complete_")]
        bridge = next(
            e.record for e in calls[call_id, "live"] if e.record["event_type"] == "bridge"
        )
        assert connect["agent_id"] == f"{bridge['enterprise_id']}-{bridge['extension']}"
        assert connect["occurred_at"] == bridge["occurred_at"]
        # The source's figures are whole seconds; the timestamps are milliseconds.
        waited = seconds(connect["occurred_at"], enqueue["occurred_at"])
        talked = seconds(completed["occurred_at"], connect["occurred_at"])
        assert connect["wait_sec"] == pytest.approx(waited, abs=1)
        assert completed["talk_sec"] == pytest.approx(talked, abs=1)
        assert completed["wait_sec"] == connect["wait_sec"]
        assert 2 <= connect["ring_sec"] <= 30
    assert answered > 100


@pytest.mark.parametrize("seed", SEEDS)
def test_failed_incoming_calls_never_reach_the_queue(seed: int) -> None:
    queued = {call_id for call_id, _ in by_call(tidy_stream(seed), QUEUE_TOPIC)}
    failed = [
        call_id
        for (call_id, _), events in by_call(tidy_stream(seed), CALLS_TOPIC).items()
        if events[-1].record["call_status"] == "failed"
        and events[0].record["call_type"] == "incoming"
    ]
    assert failed and not queued & set(failed)


def test_event_ids_are_unique_except_for_the_injected_duplicates() -> None:
    events = default_stream()
    copies = Counter(e.record["event_id"] for e in events)
    duplicated = {event_id for event_id, n in copies.items() if n > 1}

    assert 0 < len(duplicated) < len(copies) * 0.05
    records: dict[str, dict[str, Any]] = {}
    for event in events:
        first = records.setdefault(event.record["event_id"], event.record)
        assert event.record == first  # a duplicate is the same event, byte for byte


def test_without_anomalies_event_ids_are_unique() -> None:
    events = tidy_stream()
    assert len({e.record["event_id"] for e in events}) == len(events)
    assert {e.record["data_source"] for e in events if e.topic == CALLS_TOPIC} == {"live"}


def test_some_dials_are_delivered_after_their_calls_hangup() -> None:
    late = [
        call
        for call, types in delivery_orders(distinct(default_stream())).items()
        if "dial" in types and types.index("hangup") < last_index(types, "dial")
    ]
    assert late
    for types in delivery_orders(tidy_stream()).values():
        assert types.index("hangup") == len(types) - 1


def delivery_orders(events: Iterable[SimEvent]) -> dict[tuple[str, str], list[str]]:
    orders: dict[tuple[str, str], list[str]] = defaultdict(list)
    for event in events:
        if event.topic == CALLS_TOPIC:
            orders[event.key, event.record["data_source"]].append(event.record["event_type"])
    return orders


def last_index(items: list[str], wanted: str) -> int:
    return max(i for i, item in enumerate(items) if item == wanted)


def test_downloaded_copies_repeat_live_calls_later_under_new_event_ids() -> None:
    calls = by_call(distinct(default_stream()), CALLS_TOPIC)
    downloaded = {call_id for call_id, source in calls if source == "downloaded"}
    copied = {call_id for call_id in downloaded if (call_id, "live") in calls}
    only_downloaded = downloaded - copied

    assert copied and only_downloaded
    for call_id in copied:
        live, copy = calls[call_id, "live"], calls[call_id, "downloaded"]
        assert [e.record["event_type"] for e in copy] == [e.record["event_type"] for e in live]
        assert [e.record["occurred_at"] for e in copy] == [e.record["occurred_at"] for e in live]
        assert not {e.record["event_id"] for e in copy} & {e.record["event_id"] for e in live}
        assert {e.record["source_system"] for e in copy} == {"asterisk"}
        assert min(e.due for e in copy) > max(e.due for e in live)


def test_anomaly_rates_are_configurable() -> None:
    everything_downloaded = Anomalies(
        duplicate=0, reordered=0, downloaded_copy=0, downloaded_only=1
    )
    events = simulate(until=60, anomalies=everything_downloaded)

    sources = {e.record["data_source"] for e in events if e.topic == CALLS_TOPIC}
    assert sources == {"downloaded"}


def test_enterprises_are_the_ones_asked_for() -> None:
    events = simulate(until=60, enterprises=("acme",))
    assert {e.record["enterprise_id"] for e in events} == {"acme"}


def test_no_enterprise_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one enterprise"):
        TelephonyScenario(random.Random(1), START, 1.0, enterprises=())


def test_schemas_cover_every_field_the_generator_writes() -> None:
    call_fields = {f["name"] for f in TELEPHONY_CALLS.schema["fields"]}
    queue_fields = {f["name"] for f in TELEPHONY_QUEUE.schema["fields"]}
    for event in tidy_stream():
        fields = call_fields if event.topic == CALLS_TOPIC else queue_fields
        assert set(event.record) == fields
