"""Raw telephony.calls traffic made all at once, for a benchmark: whole calls that overlap in
time, arriving a little out of order, with a few duplicates, as a busy PBX feeds them.

Unlike the calls scenario (`telephony`), nothing waits for simulated time: `generate` returns
every record of N events in publishing order. A call is 4 or 5 events: start, dial (a ring
group of 1-3 extensions), then either bridge and hangup (answered; some calls also dial a
transfer target before the hangup) or a second ring round and hangup (not answered). Every
event_id is unique, so the distinct events are exactly the `call_events` rows the worker must
end up with. Records are rendered by `pbx`, like the simulator's.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.simulation.arrival import arrival_order
from switchboard.simulation.pbx import Call, call_record, enterprise_profile

START = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
ENTERPRISES = tuple(enterprise_profile(e, i) for i, e in enumerate(("0367", "0368", "0412")))
EXTENSIONS = tuple(str(ext) for ext in range(150, 190))
# New calls per simulated second: with calls lasting minutes, thousands are in progress at once.
CALLS_PER_SEC = 20.0
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
    start = START + timedelta(seconds=index / CALLS_PER_SEC)
    enterprise = ENTERPRISES[index % len(ENTERPRISES)]
    call_id = f"{int(start.timestamp())}.{index}"
    # Not `pbx.phone_number`: this draw keeps each seed's calls the ones bench/ always measured.
    caller = f"+7999{rng.randrange(10**7):07d}"
    call = Call(call_id, enterprise, "incoming", caller, enterprise.trunks[0], ())
    return [
        call_record(
            call, event_type, start + timedelta(seconds=at), event_id=f"{call_id}-{seq}", **fields
        )
        for seq, (event_type, at, fields) in enumerate(_lifecycle(rng), start=1)
    ]


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
