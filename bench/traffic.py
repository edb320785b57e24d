"""Raw telephony.calls traffic: whole calls that overlap in time, arriving a little out of order,
with a few duplicates, as a busy PBX feeds them.

A call is 4 or 5 events: start, dial (a ring group of 1-3 extensions), then either bridge and
hangup (answered; some calls also dial a transfer target before the hangup) or a second ring
round and hangup (not answered). Every event_id is unique, so the distinct events are exactly
the `call_events` rows the worker must end up with.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

T0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
ENTERPRISES = ("0367", "0368", "0412")
EXTENSIONS = tuple(str(ext) for ext in range(150, 190))
# New calls per simulated second: with calls lasting minutes, thousands are in progress at once.
CALLS_PER_SEC = 20.0
# An event arrives at most this many positions later than its place in time order.
REORDER_WINDOW = 500
DUPLICATE_SHARE = 0.02
ANSWERED_SHARE = 0.75
TRANSFER_SHARE = 0.3


@dataclass(frozen=True)
class Counts:
    events: int  # messages, duplicates included
    distinct_events: int
    calls: int


@dataclass(frozen=True)
class Traffic:
    records: list[dict[str, Any]]  # in publishing order, duplicates included
    distinct_events: int
    calls: int

    @property
    def events(self) -> int:
        return len(self.records)

    @property
    def counts(self) -> Counts:
        return Counts(self.events, self.distinct_events, self.calls)


def generate(events: int, *, seed: int = 7) -> Traffic:
    """About `events` records (exactly, unless that is fewer than one call's): whole calls plus
    DUPLICATE_SHARE of re-sent events, in arrival order."""
    rng = random.Random(seed)
    distinct: list[dict[str, Any]] = []
    calls = 0
    while len(distinct) < math.ceil(events / (1 + DUPLICATE_SHARE)):
        distinct += call_records(rng, calls)
        calls += 1
    duplicates = max(0, events - len(distinct))
    return Traffic(arrival_order(rng, distinct, duplicates), len(distinct), calls)


def call_records(rng: random.Random, index: int) -> list[dict[str, Any]]:
    """One call's events, in time order."""
    start = T0 + timedelta(seconds=index / CALLS_PER_SEC)
    enterprise = ENTERPRISES[index % len(ENTERPRISES)]
    call_id = f"{int(start.timestamp())}.{index}"
    common = {
        "source_system": "asterisk",
        "enterprise_id": enterprise,
        "call_id": call_id,
        "call_type": "incoming",
        "phone_number": f"+7999{rng.randrange(10**7):07d}",
        "trunk": f"{enterprise}-a1",
        "data_source": "live",
        "asterisk_host": f"10.88.10.{11 + index % len(ENTERPRISES)}",
    }
    records = []
    for sequence, (event_type, at, fields) in enumerate(_lifecycle(rng), start=1):
        record = {
            **common,
            "event_id": f"{call_id}-{sequence}",
            "event_type": event_type,
            "occurred_at": start + timedelta(seconds=at),
            "extensions": [],
            **fields,
        }
        record["raw"] = _webhook_payload(record)
        records.append(record)
    return records


_Step = tuple[str, float, dict[str, Any]]


def _lifecycle(rng: random.Random) -> list[_Step]:
    ring_group = rng.sample(EXTENSIONS, rng.randint(1, 3))
    ringing = rng.uniform(3.0, 25.0)
    steps: list[_Step] = [("start", 0.0, {}), ("dial", 1.0, {"extensions": ring_group})]
    if rng.random() >= ANSWERED_SHARE:
        overflow = rng.choice(EXTENSIONS)
        status = rng.choice(("no_answer", "busy"))
        steps.append(("dial", 1.0 + ringing, {"extensions": [overflow]}))
        steps.append(("hangup", 1.0 + 2 * ringing, {"call_status": status}))
        return steps
    agent = rng.choice(ring_group)
    talk = rng.uniform(20.0, 300.0)
    answered_at = 1.0 + ringing
    steps.append(("bridge", answered_at, {"extension": agent}))
    if rng.random() < TRANSFER_SHARE:
        target = rng.choice(EXTENSIONS)
        steps.append(("dial", answered_at + talk / 2, {"extensions": [target]}))
    hangup = {"extension": agent, "call_status": "answered"}
    steps.append(("hangup", answered_at + talk, hangup))
    return steps


def _webhook_payload(record: dict[str, Any]) -> str:
    """What Asterisk's webhook would have posted: the `raw` field real feeds carry."""
    return orjson.dumps(
        {
            "UniqueId": record["call_id"],
            "Event": record["event_type"],
            "CallType": 0,
            "Phone": record["phone_number"],
            "Trunk": record["trunk"],
            "Extensions": record["extensions"],
            "Extension": record.get("extension"),
            "Token": f"sim-{record['enterprise_id']}",
        }
    ).decode()


def arrival_order(
    rng: random.Random, distinct: list[dict[str, Any]], duplicates: int
) -> list[dict[str, Any]]:
    """Time order, each record (and each re-sent copy) displaced by up to REORDER_WINDOW."""
    in_time = sorted(distinct, key=lambda r: r["occurred_at"])
    copies = rng.sample(range(len(in_time)), min(duplicates, len(in_time)))
    ranks = [*range(len(in_time)), *copies]
    keyed = sorted((rank + rng.uniform(0, REORDER_WINDOW), rank) for rank in ranks)
    return [in_time[rank] for _, rank in keyed]
