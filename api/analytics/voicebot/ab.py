"""Prompt A/B tests: each variant's calls during the test, and the verdict on them.

A test's calls are those of its enterprise that started in [started_at, ended_at) (to now while
it has no end) with the variant's name as `prompt_version`. Per variant: how many, the mean
quality score and the mean cost over the calls that have one, the share transferred to an
operator (percent); the p-values and the winner are `streams.voicebot.ab.ab_verdict`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from api.analytics.voicebot.scope import BotScope
from streams.voicebot.ab import ab_verdict

_TEST_COLUMNS = (
    "t.enterprise_id, t.test_name, t.variant_a, t.variant_b, t.status, t.started_at, t.ended_at"
)
# The tests whose span overlaps the range, newest first.
_TESTS = f"""
SELECT {_TEST_COLUMNS} FROM voicebot.prompt_ab_tests t
WHERE t.enterprise_id = ANY($1::text[]) AND t.started_at < $3
  AND (t.ended_at IS NULL OR t.ended_at > $2)
ORDER BY t.started_at DESC, t.enterprise_id, t.test_name
"""
_TEST = f"""
SELECT {_TEST_COLUMNS} FROM voicebot.prompt_ab_tests t
WHERE t.test_name = $1 AND t.enterprise_id = ANY($2::text[])
ORDER BY t.enterprise_id LIMIT 1
"""
# Every test's calls at once; `i` is the test's position in the arrays.
_CALLS = """
SELECT k.i, c.prompt_version, c.quality_score, c.transferred_to_operator, c.total_cost_usd
FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[], $5::text[])
    WITH ORDINALITY AS k(enterprise_id, started_at, ended_at, variant_a, variant_b, i)
JOIN voicebot.calls c ON c.enterprise_id = k.enterprise_id
    AND c.prompt_version IN (k.variant_a, k.variant_b)
    AND c.started_at >= k.started_at AND (k.ended_at IS NULL OR c.started_at < k.ended_at)
"""


@dataclass(slots=True)
class Variant:
    """One variant's calls during a test."""

    calls: int = 0
    quality: list[float] = field(default_factory=list)
    transferred: list[bool] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)

    def add(self, row: asyncpg.Record) -> None:
        self.calls += 1
        self.transferred.append(bool(row["transferred_to_operator"]))
        if row["quality_score"] is not None:
            self.quality.append(row["quality_score"])
        if row["total_cost_usd"] is not None:
            self.costs.append(row["total_cost_usd"])

    def figures(self, suffix: str) -> dict[str, Any]:
        return {
            f"calls{suffix}": self.calls,
            f"quality{suffix}": _mean(self.quality),
            f"transferPct{suffix}": (
                100.0 * sum(self.transferred) / self.calls if self.calls else None
            ),
            f"costPerCall{suffix}": _mean(self.costs),
        }


def _mean(values: list[float]) -> float | None:
    # Summed in a fixed order, so the float does not depend on the order the rows came in.
    return sum(sorted(values), 0.0) / len(values) if values else None


def _answer(test: asyncpg.Record, a: Variant, b: Variant) -> dict[str, Any]:
    verdict = ab_verdict(a.quality, b.quality, a.transferred, b.transferred)
    return {
        "testName": test["test_name"],
        "enterpriseId": test["enterprise_id"],
        "variantA": test["variant_a"],
        "variantB": test["variant_b"],
        "status": test["status"],
        "startedAt": test["started_at"],
        "endedAt": test["ended_at"],
        **a.figures("A"),
        **b.figures("B"),
        "qualityPValue": verdict.quality_p_value,
        "transferPValue": verdict.transfer_p_value,
        "winner": verdict.winner,
    }


async def _answers(
    conn: asyncpg.Connection, tests: Sequence[asyncpg.Record]
) -> list[dict[str, Any]]:
    if not tests:
        return []
    variants = [(Variant(), Variant()) for _ in tests]
    columns = ("enterprise_id", "started_at", "ended_at", "variant_a", "variant_b")
    arrays = [[t[c] for t in tests] for c in columns]
    for row in await conn.fetch(_CALLS, *arrays):
        test, (a, b) = tests[row["i"] - 1], variants[row["i"] - 1]
        # A test of a variant against itself counts each call on both sides.
        if row["prompt_version"] == test["variant_a"]:
            a.add(row)
        if row["prompt_version"] == test["variant_b"]:
            b.add(row)
    return [_answer(t, a, b) for t, (a, b) in zip(tests, variants, strict=True)]


async def ab_tests(conn: asyncpg.Connection, scope: BotScope) -> list[dict[str, Any]]:
    """The tests that ran at some time in the range, newest first, with their figures."""
    tests = await conn.fetch(_TESTS, list(scope.enterprises), scope.start, scope.end)
    return await _answers(conn, tests)


async def ab_test(
    conn: asyncpg.Connection, test_name: str, enterprises: Sequence[str]
) -> dict[str, Any] | None:
    """One test by name, None when none of `enterprises` has it."""
    test = await conn.fetchrow(_TEST, test_name, list(enterprises))
    return None if test is None else (await _answers(conn, [test]))[0]
