"""voicebot.calls (the topic): the winning version of each call, and what the calls make.

A call is sent at its start and again at its end; the row holds the newest version
(streams.voicebot.calls), with its `occurred_at` and `event_key`, so a late older version, a
duplicate or a replay changes nothing. Under the call's lock the stored version is compared
with the batch's newest, then the callers, A/B tests and days the old and the new versions
touch are recomputed from the stored calls, and the call's latencies move from the old
version's group to the new one's (sinks.voicebot.latency_days), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg
import orjson

from sinks.columns import columns
from sinks.locks import lock_voicebot
from sinks.partitions import ensure_partitions
from sinks.raw_events import NewRows
from sinks.voicebot.ab_tests import recount_tests_of_prompts
from sinks.voicebot.customers import recount_customers
from sinks.voicebot.daily_stats import recount_days
from sinks.voicebot.latency_days import Placement, move_calls
from streams.voicebot.calls import newest
from streams.voicebot.events import BotCallEvent

CallKey = tuple[str, str]  # (enterprise_id, call_id)

_COLUMNS: tuple[tuple[str, str], ...] = (
    ("enterprise_id", "text"),
    ("id", "text"),
    ("caller_id", "text"),
    ("customer_id", "text"),
    ("started_at", "timestamptz"),
    ("ended_at", "timestamptz"),
    ("duration_seconds", "int"),
    ("scenario", "text"),
    ("transferred_to_operator", "bool"),
    ("transfer_reason", "text"),
    ("order_id", "text"),
    ("fitting_booking_id", "text"),
    ("prompt_version", "text"),
    ("quality_score", "float8"),
    ("cost_breakdown", "jsonb"),
    ("total_cost_usd", "float8"),
    ("source_system", "text"),
    ("event_id", "text"),
    ("event_key", "text"),
    ("occurred_at", "timestamptz"),
)
_NAMES = [name for name, _ in _COLUMNS]
_KEY = ("enterprise_id", "id", "started_at")
_UPSERT = f"""
INSERT INTO voicebot.calls ({", ".join(_NAMES)})
SELECT {", ".join(f"v.{n}::jsonb" if t == "jsonb" else f"v.{n}" for n, t in _COLUMNS)}
FROM unnest({
    ", ".join(
        f"${i}::{'text' if t == 'jsonb' else t}[]" for i, (_, t) in enumerate(_COLUMNS, start=1)
    )
}) AS v({", ".join(_NAMES)})
ON CONFLICT ({", ".join(_KEY)}) DO UPDATE SET
{", ".join(f"{n} = excluded.{n}" for n in _NAMES if n not in _KEY)}
"""
_KEYS = "unnest($1::text[], $2::text[]) AS k(enterprise_id, id)"
_STORED = f"""
SELECT c.enterprise_id, c.id, c.started_at, c.caller_id, c.prompt_version, c.occurred_at,
    c.event_key, c.scenario
FROM voicebot.calls c JOIN {_KEYS} ON c.enterprise_id = k.enterprise_id AND c.id = k.id
"""
# A newer version that moved the call's start: its row under the old start goes.
_DELETE_MOVED = """
DELETE FROM voicebot.calls c
USING unnest($1::text[], $2::text[], $3::timestamptz[]) AS k(enterprise_id, id, started_at)
WHERE c.enterprise_id = k.enterprise_id AND c.id = k.id AND c.started_at <> k.started_at
"""


@dataclass(frozen=True, slots=True)
class _Stored:
    """What the stored version of a call says about the rows it counts in."""

    started_at: datetime
    caller_id: str | None
    prompt_version: str | None
    version: tuple[datetime, str]
    scenario: str | None


async def write_bot_calls(conn: asyncpg.Connection, events: Sequence[BotCallEvent]) -> NewRows:
    """Stores each call's newest version and recomputes what it counts in; returns the event
    keys of the versions that won (a late older one, or a redelivery, is no new row)."""
    if not events:
        return NewRows(frozenset())
    by_call: dict[CallKey, list[BotCallEvent]] = {}
    for event in events:
        by_call.setdefault((event.enterprise_id, event.call_id), []).append(event)
    async with conn.transaction():
        keys = sorted(by_call)
        await lock_voicebot(conn, "voicebot_call", keys)
        stored = await _load(conn, keys)
        winners: list[BotCallEvent] = []
        replaced: list[tuple[str, _Stored]] = []
        for key in keys:
            candidate = newest(by_call[key])
            before = stored.get(key)
            if before is not None and candidate.version <= before.version:
                continue
            winners.append(candidate)
            if before is not None:
                replaced.append((key[0], before))
        if not winners:
            return NewRows(frozenset())
        await _store(conn, winners, stored)
        await _recount(conn, winners, replaced)
        await move_calls(
            conn, [_moved(w, stored.get((w.enterprise_id, w.call_id))) for w in winners]
        )
    return NewRows(frozenset(w.event_key for w in winners))


async def _load(conn: asyncpg.Connection, keys: list[CallKey]) -> dict[CallKey, _Stored]:
    stored: dict[CallKey, _Stored] = {}
    for row in await conn.fetch(_STORED, *columns(keys)):
        version = (row["occurred_at"], row["event_key"])
        key = (row["enterprise_id"], row["id"])
        if key not in stored or version > stored[key].version:
            stored[key] = _Stored(
                row["started_at"], row["caller_id"], row["prompt_version"], version, row["scenario"]
            )
    return stored


async def _store(
    conn: asyncpg.Connection, winners: list[BotCallEvent], stored: dict[CallKey, _Stored]
) -> None:
    moved = [
        (w.enterprise_id, w.call_id, w.started_at)
        for w in winners
        if (before := stored.get((w.enterprise_id, w.call_id))) is not None
        and before.started_at != w.started_at
    ]
    if moved:
        await conn.execute(_DELETE_MOVED, *columns(moved))
    await ensure_partitions(conn, "voicebot.calls", (w.started_at for w in winners))
    await conn.execute(_UPSERT, *columns([_row(w) for w in winners]))


def _row(call: BotCallEvent) -> tuple[object, ...]:
    return (
        call.enterprise_id,
        call.call_id,
        call.caller_id,
        call.customer_id,
        call.started_at,
        call.ended_at,
        call.duration_seconds,
        call.scenario,
        call.transferred_to_operator,
        call.transfer_reason,
        call.order_id,
        call.fitting_booking_id,
        call.prompt_version,
        call.quality_score,
        orjson.dumps(dict(call.cost_breakdown)).decode(),
        call.total_cost_usd,
        call.source_system,
        call.event_id,
        call.event_key,
        call.occurred_at,
    )


async def _recount(
    conn: asyncpg.Connection, winners: list[BotCallEvent], replaced: list[tuple[str, _Stored]]
) -> None:
    """Both versions' prompts, callers and days: a call that moved leaves the old ones. The
    locks go in sinks.locks' order: prompts (then their tests), callers, days."""
    prompts: set[tuple[str, str]] = set()
    callers: set[tuple[str, str]] = set()
    days: set[tuple[str, date]] = set()
    touched = [(w.enterprise_id, w.started_at, w.caller_id, w.prompt_version) for w in winners]
    touched += [(e, r.started_at, r.caller_id, r.prompt_version) for e, r in replaced]
    for enterprise_id, started_at, caller_id, prompt_version in touched:
        days.add((enterprise_id, started_at.astimezone(UTC).date()))
        if caller_id is not None:
            callers.add((enterprise_id, caller_id))
        if prompt_version is not None:
            prompts.add((enterprise_id, prompt_version))
    await recount_tests_of_prompts(conn, prompts)
    await recount_customers(conn, callers)
    await recount_days(conn, days)


def _moved(call: BotCallEvent, before: _Stored | None) -> tuple[Placement | None, Placement]:
    """Where the call's latencies were (the stored version's group), and where they go; after
    `_recount`, which holds both days' locks."""
    key = (call.enterprise_id, call.call_id)
    old = None
    if before is not None:
        old = Placement(*key, before.started_at, before.scenario, before.prompt_version)
    return old, Placement(*key, call.started_at, call.scenario, call.prompt_version)
