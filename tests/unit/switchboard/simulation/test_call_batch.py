"""Calls made all at once (bench/ingest's traffic): whole calls, exactly N messages, a few
duplicates, local disorder."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from switchboard.simulation.arrival import REORDER_WINDOW
from switchboard.simulation.call_batch import DUPLICATE_SHARE, generate


def _by_call(records: list[dict[str, Any]]) -> dict[str, set[str]]:
    calls: dict[str, set[str]] = defaultdict(set)
    for record in records:
        calls[record["call_id"]].add(record["event_id"])
    return calls


def test_exactly_the_requested_number_of_messages_of_whole_calls() -> None:
    traffic = generate(10_000)

    calls = _by_call(traffic.records)
    assert traffic.events == 10_000
    assert traffic.calls == len(calls)
    assert traffic.distinct_events == sum(len(events) for events in calls.values())
    assert {len(events) for events in calls.values()} == {4, 5}


def test_about_two_percent_are_resent_duplicates() -> None:
    traffic = generate(10_000)

    copies = Counter(r["event_id"] for r in traffic.records)
    duplicates = sum(n - 1 for n in copies.values())
    assert duplicates == traffic.events - traffic.distinct_events
    assert abs(duplicates / traffic.distinct_events - DUPLICATE_SHARE) < 0.002
    assert max(copies.values()) == 2


def test_every_call_starts_dials_and_hangs_up() -> None:
    traffic = generate(2_000)

    types: dict[str, list[str]] = defaultdict(list)
    for record in sorted(traffic.records, key=lambda r: r["occurred_at"]):
        types[record["call_id"]].append(record["event_type"])
    for lifecycle in types.values():
        distinct = list(dict.fromkeys(lifecycle))
        assert distinct[:2] == ["start", "dial"]
        assert distinct[-1] == "hangup"


def test_events_arrive_out_of_order_but_only_within_the_window() -> None:
    records = generate(20_000).records
    in_time = sorted(range(len(records)), key=lambda i: records[i]["occurred_at"])
    time_rank = {position: rank for rank, position in enumerate(in_time)}

    late = [position - time_rank[position] for position in range(len(records))]
    assert any(shift != 0 for shift in late)
    assert max(abs(shift) for shift in late) <= REORDER_WINDOW + len(records) * DUPLICATE_SHARE


def test_the_same_seed_gives_the_same_traffic() -> None:
    assert generate(1_000, seed=3).records == generate(1_000, seed=3).records
    assert generate(1_000, seed=3).records != generate(1_000, seed=4).records
