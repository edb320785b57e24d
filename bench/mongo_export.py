"""A generated mongoexport of the old MongoDB's call records, with the figures it must give.

Seeded, so a test and a benchmark can rebuild the same file. Documents use the Extended JSON
types mongoexport writes (`$oid`, canonical and relaxed `$date`, `$numberLong` phones,
`$numberInt` extensions); a few records are malformed in the ways a real export is.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId, json_util
from bson.int64 import Int64
from bson.json_util import CANONICAL_JSON_OPTIONS, RELAXED_JSON_OPTIONS

_EPOCH = datetime(2023, 3, 1, tzinfo=UTC)
_STATUSES = ("answered", "answered", "answered", "no_answer", "busy", "failed")
# What each kind of malformed record is counted as (schemas.mongo_calls' reasons).
MALFORMED: dict[str, Callable[[dict[str, Any]], str]] = {
    "not Extended JSON": lambda _: '{"_id": {"$oid": "broken',
    "not a document": lambda _: "[1, 2, 3]",
    "no UniqueId": lambda doc: _without(doc, "UniqueId"),
    "unknown CallType": lambda doc: _dump({**doc, "CallType": "sideways"}),
    "no StartTime": lambda doc: _without(doc, "StartTime"),
    "EndTime before StartTime": lambda doc: _dump(
        {**doc, "EndTime": doc["StartTime"] - timedelta(seconds=5)}
    ),
}


@dataclass
class Export:
    """The file's lines and what importing it must report."""

    lines: list[str] = field(default_factory=list)
    # unique_id -> (mongo_id, duration in seconds) of every good call.
    calls: dict[str, tuple[str, int]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    @property
    def duration(self) -> int:
        return sum(d for _, d in self.calls.values())


def generate(calls: int, *, seed: int = 9, malformed_every: int = 97) -> Export:
    """`calls` good records, one malformed record after every `malformed_every`th, and one
    duplicate UniqueId for every kind of malformed record."""
    rng = random.Random(seed)
    export = Export()
    kinds = list(MALFORMED)
    for number in range(calls):
        doc = _document(rng, number)
        export.lines.append(_dump(doc, canonical=number % 2 == 0))
        duration = max(0, round((doc["EndTime"] - doc["StartTime"]).total_seconds()))
        export.calls[doc["UniqueId"]] = (str(doc["_id"]), duration)
        if number % malformed_every == malformed_every - 1:
            kind = kinds[(number // malformed_every) % len(kinds)]
            export.lines.append(MALFORMED[kind](_document(rng, calls + number)))
            export.skipped[kind] += 1
            if kind == kinds[0]:
                again = {**_document(rng, calls + number), "UniqueId": doc["UniqueId"]}
                export.lines.append(_dump(again))
                export.skipped["duplicate UniqueId"] += 1
    return export


def _document(rng: random.Random, number: int) -> dict[str, Any]:
    start = _EPOCH + timedelta(
        seconds=number * 37 + rng.randint(0, 30), milliseconds=rng.randint(0, 999)
    )
    talk = timedelta(seconds=rng.randint(0, 900), milliseconds=rng.randint(0, 999))
    extensions = rng.sample(["150", "151", "162", "170", "171", "180"], rng.randint(0, 3))
    doc: dict[str, Any] = {
        "_id": ObjectId(rng.randbytes(12)),
        "UniqueId": f"{int(start.timestamp())}.{number}",
        "EnterpriseId": "0367",
        "Token": f"tok-{rng.randrange(10**8):08d}",
        "CallType": rng.choice(("incoming", "outgoing", "internal")),
        "Phone": Int64(79000000000 + rng.randrange(10**9)),
        "Trunk": rng.choice(("SIP/provider", "DAHDI/1", None)),
        "Extensions": [int(e) if rng.random() < 0.3 else e for e in extensions],
        "StartTime": start,
        "EndTime": start + talk,
        "CallStatus": rng.choice(_STATUSES),
        "AsteriskHost": "10.88.10.21",
        "PhoneInfo": {"region": "Moscow"},
    }
    if doc["CallStatus"] == "answered" and extensions:
        doc["AnswerTime"] = start + timedelta(seconds=rng.randint(0, 20))
        doc["EndTime"] = doc["AnswerTime"] + talk
    return doc


def _dump(doc: dict[str, Any], *, canonical: bool = False) -> str:
    return json_util.dumps(
        doc, json_options=CANONICAL_JSON_OPTIONS if canonical else RELAXED_JSON_OPTIONS
    )


def _without(doc: dict[str, Any], name: str) -> str:
    return _dump({k: v for k, v in doc.items() if k != name})
