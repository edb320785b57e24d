"""voicebot.prompt_ab_tests: each test's newest version, with its counts and mean qualities
recomputed from the stored calls.

A test counts the calls that started in [started_at, ended_at) with a variant's
prompt_version. Both writers recompute under the locks of sinks.locks, prompt versions first,
then tests: the test writer holds its variants' prompt locks, so a calls writer that looks up
the tests of a prompt after taking that prompt's lock sees every test that names it; and every
recount holds the test's lock, so the last one sees every call committed before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import asyncpg

from sinks.columns import columns
from sinks.locks import lock_voicebot
from sinks.raw_events import NewRows
from streams.voicebot.events import AbTest

TestKey = tuple[str, str]  # (enterprise_id, test_name)
PromptKey = tuple[str, str]  # (enterprise_id, prompt version name)

_COLUMNS = (
    ("enterprise_id", "text"),
    ("test_name", "text"),
    ("variant_a", "text"),
    ("variant_b", "text"),
    ("status", "text"),
    ("started_at", "timestamptz"),
    ("ended_at", "timestamptz"),
    ("source_system", "text"),
    ("event_id", "text"),
    ("event_key", "text"),
    ("occurred_at", "timestamptz"),
)
_NAMES = [name for name, _ in _COLUMNS]
# The newest version wins, ties to the larger event key.
_UPSERT = f"""
INSERT INTO voicebot.prompt_ab_tests AS t ({", ".join(_NAMES)})
SELECT * FROM unnest({
    ", ".join(f"${i}::{pg_type}[]" for i, (_, pg_type) in enumerate(_COLUMNS, start=1))
}) AS v({", ".join(_NAMES)})
ON CONFLICT (enterprise_id, test_name) DO UPDATE SET
{", ".join(f"{n} = excluded.{n}" for n in _NAMES[2:])}
WHERE (excluded.occurred_at, excluded.event_key) > (t.occurred_at, t.event_key)
RETURNING event_key
"""
_TESTS_OF_PROMPTS = """
SELECT DISTINCT t.enterprise_id, t.test_name
FROM unnest($1::text[], $2::text[]) AS k(enterprise_id, name)
JOIN voicebot.prompt_ab_tests t ON t.enterprise_id = k.enterprise_id
    AND (t.variant_a = k.name OR t.variant_b = k.name)
"""
# Means over the calls that have a score, summed in sorted order: the same float whatever order
# the calls were stored in.
_RECOUNT = """
UPDATE voicebot.prompt_ab_tests t SET
    calls_a = n.calls_a, calls_b = n.calls_b, quality_a = n.quality_a, quality_b = n.quality_b
FROM (
    SELECT t.enterprise_id, t.test_name,
        count(c.id) FILTER (WHERE c.prompt_version = t.variant_a) AS calls_a,
        count(c.id) FILTER (WHERE c.prompt_version = t.variant_b) AS calls_b,
        avg(c.quality_score ORDER BY c.quality_score)
            FILTER (WHERE c.prompt_version = t.variant_a) AS quality_a,
        avg(c.quality_score ORDER BY c.quality_score)
            FILTER (WHERE c.prompt_version = t.variant_b) AS quality_b
    FROM unnest($1::text[], $2::text[]) AS k(enterprise_id, test_name)
    JOIN voicebot.prompt_ab_tests t
        ON t.enterprise_id = k.enterprise_id AND t.test_name = k.test_name
    LEFT JOIN voicebot.calls c ON c.enterprise_id = t.enterprise_id
        AND c.prompt_version IN (t.variant_a, t.variant_b)
        AND c.started_at >= t.started_at
        AND (t.ended_at IS NULL OR c.started_at < t.ended_at)
    GROUP BY t.enterprise_id, t.test_name
) AS n
WHERE t.enterprise_id = n.enterprise_id AND t.test_name = n.test_name
"""


async def write_ab_tests(conn: asyncpg.Connection, events: Sequence[AbTest]) -> NewRows:
    """Stores each test's newest version and recounts it; returns the keys of the versions
    that won."""
    if not events:
        return NewRows(frozenset())
    winners: dict[TestKey, AbTest] = {}
    for event in events:
        key = (event.enterprise_id, event.test_name)
        if key not in winners or event.version > winners[key].version:
            winners[key] = event
    tests = sorted(winners)
    async with conn.transaction():
        variants = {
            (e.enterprise_id, v) for e in winners.values() for v in (e.variant_a, e.variant_b)
        }
        await lock_voicebot(conn, "voicebot_prompt", variants)
        await lock_voicebot(conn, "voicebot_ab_test", tests)
        rows = [_row(winners[key]) for key in tests]
        won = await conn.fetch(_UPSERT, *columns(rows))
        await conn.execute(_RECOUNT, *columns(tests))
    return NewRows(frozenset(r["event_key"] for r in won))


async def recount_tests_of_prompts(conn: asyncpg.Connection, prompts: Iterable[PromptKey]) -> None:
    """Recounts every test that compares one of `prompts`, in the caller's transaction."""
    keys = sorted(set(prompts))
    if not keys:
        return
    await lock_voicebot(conn, "voicebot_prompt", keys)
    tests = [tuple(r) for r in await conn.fetch(_TESTS_OF_PROMPTS, *columns(keys))]
    await recount_tests(conn, tests)


async def recount_tests(conn: asyncpg.Connection, tests: Iterable[tuple[str, ...]]) -> None:
    """Recounts the tests from the stored calls, under their locks."""
    keys = sorted(set(tests))
    if not keys:
        return
    await lock_voicebot(conn, "voicebot_ab_test", keys)
    await conn.execute(_RECOUNT, *columns(keys))


def _row(test: AbTest) -> tuple[object, ...]:
    return (
        test.enterprise_id,
        test.test_name,
        test.variant_a,
        test.variant_b,
        test.status,
        test.started_at,
        test.ended_at,
        test.source_system,
        test.event_id,
        test.event_key,
        test.occurred_at,
    )
