"""The voice-bot part of `switchboard verify`: the /api/voicebot figures against the "voicebot"
section of `simulate --expected` (see switchboard.simulation.voicebot.truth).

Counts must be exact, seconds, milliseconds, percentages and money within 0.01, quality means
and p-values within 1e-6; names, statuses and winners exactly. A row (day, tool, group, test)
the truth has and the API lacks is a mismatch, and so is one the API has beyond the truth.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import aiohttp

from switchboard.cli.api_reads import EnterpriseReads
from switchboard.cli.mismatch import Mismatch

GROUPINGS = ("day", "scenario", "prompt_version")
# Seconds, milliseconds, percentages and money: the contract's precision.
TOLERANCE = 0.01
# Quality means and p-values are the same arithmetic on the same doubles: all but exact.
FINE = 1e-6
_COUNTS = frozenset(
    {
        "totalCalls",
        "resolvedByBot",
        "transferred",
        "count",
        "calls",
        "callsA",
        "callsB",
        "handoffs",
        "answered",
        "abandoned",
        "shortAbandoned",
        "flowOut",
        "unmatched",
    }
)
_FINE = frozenset({"avgQualityScore", "qualityA", "qualityB", "qualityPValue", "transferPValue"})
_EXACT = frozenset({"date", "status", "variantA", "variantB", "winner", "toolName"})
DAY_FIELDS = (
    "totalCalls",
    "resolvedByBot",
    "transferred",
    "containmentPct",
    "avgDurationSec",
    "avgQualityScore",
    "totalCostUsd",
)
DAY_COUNTS = ("scenarioBreakdown", "transferReasons", "hourlyDistribution")
DISTRIBUTION = ("p50", "p90", "p95", "p99", "count")
COST_FIELDS = ("totalUsd", "perCallUsd")
TOOL_FIELDS = ("calls", "successPct", "p95Ms")
TEST_FIELDS = (
    "variantA",
    "variantB",
    "status",
    "callsA",
    "callsB",
    "qualityA",
    "qualityB",
    "transferPctA",
    "transferPctB",
    "costPerCallA",
    "costPerCallB",
    "qualityPValue",
    "transferPValue",
    "winner",
)
HANDOFF_FIELDS = (
    "handoffs",
    "answered",
    "abandoned",
    "shortAbandoned",
    "flowOut",
    "unmatched",
    "asaSec",
)


def differs(name: str, want: Any, got: Any) -> bool:
    if name in _COUNTS or name in _EXACT or want is None or got is None:
        return bool(want != got)
    if isinstance(want, str) or isinstance(got, str):
        return bool(want != got)
    tolerance = FINE if name in _FINE else TOLERANCE
    return not math.isclose(float(want), float(got), rel_tol=0.0, abs_tol=tolerance)


def _fields(
    where: str, names: Sequence[str], expected: Mapping[str, Any], actual: Mapping[str, Any]
) -> Iterator[Mismatch]:
    for name in names:
        if name in expected and differs(name, expected[name], actual.get(name)):
            yield Mismatch(where, name, expected[name], actual.get(name))


def _counts(
    where: str, name: str, expected: Mapping[str, int], actual: Mapping[str, int] | None
) -> Iterator[Mismatch]:
    """A {key: calls} map: a key missing on one side counts 0 there."""
    actual = actual or {}
    for key in sorted(set(expected) | set(actual)):
        want, got = expected.get(key, 0), actual.get(key, 0)
        if want != got:
            yield Mismatch(where, f"{name}[{key}]", want, got)


def _rows(
    where: str,
    what: str,
    key: str,
    expected: Sequence[Mapping[str, Any]],
    actual: Sequence[Mapping[str, Any]],
    compare: Callable[[str, Mapping[str, Any], Mapping[str, Any]], Iterator[Mismatch]],
) -> Iterator[Mismatch]:
    """Rows matched by their field `key`: each expected one compared, a missing or extra one
    named."""
    got = {row[key]: row for row in actual}
    for row in expected:
        found = got.get(row[key])
        if found is None:
            yield Mismatch(f"{where} {what} {row[key]}", what, "present", None)
        else:
            yield from compare(f"{where} {what} {row[key]}", row, found)
    for extra in sorted(set(got) - {row[key] for row in expected}, key=str):
        yield Mismatch(f"{where} {what} {extra}", what, None, "present")


def _day(where: str, expected: Mapping[str, Any], actual: Mapping[str, Any]) -> Iterator[Mismatch]:
    yield from _fields(where, DAY_FIELDS, expected, actual)
    for name in DAY_COUNTS:
        yield from _counts(where, name, expected[name], actual.get(name))


def _components(
    where: str, expected: Mapping[str, Any], actual: Mapping[str, Any]
) -> Iterator[Mismatch]:
    got = actual.get("components") or {}
    for component, figures in expected["components"].items():
        yield from _fields(f"{where} {component}", DISTRIBUTION, figures, got.get(component) or {})


def _costs(
    where: str, expected: Mapping[str, Any], actual: Mapping[str, Any]
) -> Iterator[Mismatch]:
    yield from _fields(where, COST_FIELDS, expected, actual)
    by_component = actual.get("byComponent") or {}
    for component in sorted(set(expected["byComponent"]) | set(by_component)):
        want, got = expected["byComponent"].get(component), by_component.get(component)
        if differs("byComponent", want, got):
            yield Mismatch(where, f"byComponent[{component}]", want, got)


def _tool(where: str, expected: Mapping[str, Any], actual: Mapping[str, Any]) -> Iterator[Mismatch]:
    return _fields(where, TOOL_FIELDS, expected, actual)


def _test(where: str, expected: Mapping[str, Any], actual: Mapping[str, Any]) -> Iterator[Mismatch]:
    return _fields(where, TEST_FIELDS, expected, actual)


def compare_bot(
    enterprise: str, expected: Mapping[str, Any], api: Mapping[str, Any]
) -> list[Mismatch]:
    """Every difference between one enterprise's bot truth and the API's answers for it (`api`
    as `read_bot_api` returns them)."""
    where = f"{enterprise} voicebot"
    found = [
        *_rows(where, "day", "date", expected["dailyStats"], api["daily-stats"]["days"], _day),
        *_components(f"{where} latency", expected["latency"], api["latency"]),
        *_costs(f"{where} costs", expected["costs"], api["costs"]),
        *_rows(where, "tool", "toolName", expected["tools"], api["tools"]["tools"], _tool),
        *_rows(where, "ab-test", "testName", expected["abTests"], api["ab-tests"]["tests"], _test),
        *_fields(f"{where} handoffs", HANDOFF_FIELDS, expected["handoffs"], api["handoffs"]),
    ]
    for grouping in GROUPINGS:
        for what, compare in (("latency", _components), ("costs", _costs)):
            found += _rows(
                where,
                f"{what} by {grouping}",
                "key",
                expected[f"{what}By"][grouping],
                api[f"{what}By"][grouping]["groups"],
                compare,
            )
    return found


async def read_bot_api(
    session: aiohttp.ClientSession,
    base_url: str,
    token: str,
    enterprise: str,
    truth: Mapping[str, Any],
) -> dict[str, Any]:
    """The voice-bot routes' answers for one enterprise over the truth's range."""
    reads = EnterpriseReads(session, base_url, token, enterprise, truth)

    async def get(route: str, **params: str) -> Any:
        return await reads.get(f"/api/voicebot/{route}", **params)

    answers: dict[str, Any] = {
        route: await get(route)
        for route in ("daily-stats", "latency", "costs", "tools", "ab-tests", "handoffs")
    }
    answers["latencyBy"] = {g: await get("latency", group_by=g) for g in GROUPINGS}
    answers["costsBy"] = {g: await get("costs", group_by=g) for g in GROUPINGS}
    return answers


async def verify_bot(
    session: aiohttp.ClientSession, truth: Mapping[str, Any], base_url: str, token: str
) -> list[Mismatch]:
    """Every enterprise of the truth's "voicebot" section against the API."""
    found: list[Mismatch] = []
    for enterprise, expected in truth["enterprises"].items():
        api = await read_bot_api(session, base_url, token, enterprise, truth)
        found += compare_bot(enterprise, expected, api)
    return found
