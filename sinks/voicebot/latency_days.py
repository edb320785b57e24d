"""voicebot.latency_days: each UTC day's latencies per scenario and prompt version, sorted, with
how many turns count in the group (migration 0014).

A row is always what the stored calls and turns make (`recount_latency_days`, which retention
and bench.voicebot_api use): the stream keeps it so by moving exact contributions rather than
recounting a whole day for every batch, which on a busy day would read its every turn again
per batch. New turns add their values to their stored call's group; a new version of a call
takes its turns' values out of the old version's group and adds them to the new one's (a call
whose scenario, prompt version or start changed moves). A turn whose call is not stored yet
adds nothing: the call's first version adds it.

Under the calls' locks, a call and its turns cannot be moved and added at once: whichever
batch commits last sees the other's rows. Under the days' locks, each group row is read and
written by one batch at a time. Any replay, reordering or duplication therefore leaves the rows
a recount makes (tests/integration/api/test_voicebot_latency_summary.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from sinks.columns import columns
from sinks.locks import lock_voicebot
from sinks.voicebot.latency_components import (
    COMPONENTS,
    TURNS_OF_CALL,
    pack,
    packed_values,
    unpack,
)
from streams.voicebot.events import BotTurn

Day = tuple[str, date]  # (enterprise_id, UTC date of the calls' start)
Group = tuple[str, date, str | None, str | None]  # (enterprise_id, day, scenario, prompt)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a version of a call puts its turns' values."""

    enterprise_id: str
    call_id: str
    started_at: datetime
    scenario: str | None
    prompt_version: str | None


_DAYS = "unnest($1::text[], $2::date[]) AS k(enterprise_id, day)"
_DELETE_DAYS = f"""
DELETE FROM voicebot.latency_days l USING {_DAYS}
WHERE l.enterprise_id = k.enterprise_id AND l.day = k.day
"""
_RECOUNT = f"""
INSERT INTO voicebot.latency_days
    (enterprise_id, day, scenario, prompt_version, turns, stt, llm, tts, turn)
SELECT c.enterprise_id, k.day, c.scenario, c.prompt_version, count(*), {packed_values()}
FROM {_DAYS}
JOIN voicebot.calls c ON c.enterprise_id = k.enterprise_id
    AND c.started_at >= k.day::timestamp AT TIME ZONE 'UTC'
    AND c.started_at < (k.day + 1)::timestamp AT TIME ZONE 'UTC'
JOIN voicebot.call_turns t ON {TURNS_OF_CALL}
GROUP BY c.enterprise_id, k.day, c.scenario, c.prompt_version
"""
_GROUP = (
    "c.enterprise_id, (c.started_at AT TIME ZONE 'UTC')::date AS day, c.scenario, c.prompt_version"
)
# What the new turns add: the stored calls' groups, each with its values of the turns.
_TURNS_ADD = f"""
SELECT {_GROUP}, count(*) AS turns, {packed_values()}
FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[],
    $7::timestamptz[]) AS t(enterprise_id, call_id, speaker, stt_latency_ms, llm_latency_ms,
    tts_latency_ms, created_at)
JOIN voicebot.calls c ON {TURNS_OF_CALL}
GROUP BY 1, 2, 3, 4
"""
# What versions of calls put in their groups, from the stored turns; `n` keeps them apart.
_PLACED = f"""
SELECT c.n, {_GROUP}, count(*) AS turns, {packed_values()}
FROM unnest($1::int[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
    AS c(n, enterprise_id, id, started_at, scenario, prompt_version)
JOIN voicebot.call_turns t ON {TURNS_OF_CALL}
GROUP BY 1, 2, 3, 4, 5
"""
_GROUPS = """unnest($1::text[], $2::date[], $3::text[], $4::text[])
    AS k(enterprise_id, day, scenario, prompt_version)"""
_MATCH = """l.enterprise_id = k.enterprise_id AND l.day = k.day
    AND l.scenario IS NOT DISTINCT FROM k.scenario
    AND l.prompt_version IS NOT DISTINCT FROM k.prompt_version"""
_STORED = f"""
SELECT l.enterprise_id, l.day, l.scenario, l.prompt_version, l.turns, l.stt, l.llm, l.tts, l.turn
FROM voicebot.latency_days l JOIN {_GROUPS} ON {_MATCH}
"""
_DELETE_GROUPS = f"DELETE FROM voicebot.latency_days l USING {_GROUPS} WHERE {_MATCH}"
_INSERT = """
INSERT INTO voicebot.latency_days
    (enterprise_id, day, scenario, prompt_version, turns, stt, llm, tts, turn)
SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::int[], $6::bytea[],
    $7::bytea[], $8::bytea[], $9::bytea[])
"""


class _Tally:
    """A group's turns and each component's values, as a multiset that can be added to and
    taken from."""

    def __init__(self) -> None:
        self.turns = 0
        self.values: dict[str, Counter[int]] = {name: Counter() for name in COMPONENTS}

    def add(self, row: asyncpg.Record, sign: int) -> None:
        self.turns += sign * row["turns"]
        for name in COMPONENTS:
            counts = Counter(unpack(row[name]))
            if sign > 0:
                self.values[name].update(counts)
            else:
                self.values[name].subtract(counts)

    def packed(self) -> list[bytes]:
        """Each component's values, sorted and packed."""
        return [pack(self.values[name].elements()) for name in COMPONENTS]


async def recount_latency_days(conn: asyncpg.Connection, days: Iterable[Day]) -> None:
    """Recomputes the days' rows from the stored calls and turns, in the caller's transaction."""
    keys = sorted(set(days))
    if not keys:
        return
    async with conn.transaction():
        await lock_voicebot(conn, "voicebot_day", [(e, d.isoformat()) for e, d in keys])
        await conn.execute(_DELETE_DAYS, *columns(keys))
        await conn.execute(_RECOUNT, *columns(keys))


async def add_turns(conn: asyncpg.Connection, turns: Sequence[BotTurn]) -> None:
    """Adds the values of turns just stored (each once) to their stored calls' groups; takes
    the calls' locks, then the days'."""
    if not turns:
        return
    async with conn.transaction():
        await lock_voicebot(conn, "voicebot_call", [(t.enterprise_id, t.call_id) for t in turns])
        rows = [
            (
                t.enterprise_id,
                t.call_id,
                t.speaker,
                t.stt_latency_ms,
                t.llm_latency_ms,
                t.tts_latency_ms,
                t.created_at,
            )
            for t in turns
        ]
        added = await conn.fetch(_TURNS_ADD, *columns(rows))
        await _apply(conn, [(row, 1) for row in added])


async def move_calls(
    conn: asyncpg.Connection, moves: Sequence[tuple[Placement | None, Placement]]
) -> None:
    """For each call (under its lock, its new version stored): takes its turns' values out of
    the group of the version it replaced (None: a new call), puts them in the new version's."""
    placements = [
        (sign, p)
        for before, after in moves
        if before != after
        for sign, p in ((-1, before), (1, after))
        if p is not None
    ]
    if not placements:
        return
    async with conn.transaction():
        rows = [
            (n, p.enterprise_id, p.call_id, p.started_at, p.scenario, p.prompt_version)
            for n, (_, p) in enumerate(placements)
        ]
        placed = await conn.fetch(_PLACED, *columns(rows))
        await _apply(conn, [(row, placements[row["n"]][0]) for row in placed])


async def _apply(conn: asyncpg.Connection, changes: list[tuple[asyncpg.Record, int]]) -> None:
    """Adds (sign 1) or takes out (-1) each change's turns and values from its group's row."""
    groups = list({_group(row) for row, _ in changes})
    if not groups:
        return
    await lock_voicebot(conn, "voicebot_day", [(e, d.isoformat()) for e, d, _, _ in groups])
    tallies: dict[Group, _Tally] = {}
    for row in await conn.fetch(_STORED, *columns(groups)):
        tallies.setdefault(_group(row), _Tally()).add(row, 1)
    for row, sign in changes:
        tallies.setdefault(_group(row), _Tally()).add(row, sign)
    await conn.execute(_DELETE_GROUPS, *columns(groups))
    kept = [(group, tally) for group, tally in tallies.items() if tally.turns > 0]
    if kept:
        await conn.execute(
            _INSERT, *columns([(*group, tally.turns, *tally.packed()) for group, tally in kept])
        )


def _group(row: asyncpg.Record) -> Group:
    return (row["enterprise_id"], row["day"], row["scenario"], row["prompt_version"])
