"""The figures the /api/voicebot routes must report for a simulated range, computed from the
records the bot published (and, for hand-overs, from what the contact centre did with them).

A second, independent reading of CONTRACT.md sections 4 and 9 (it shares no code with
streams.voicebot or the API):

* a call is its newest record (the largest occurred_at, then the larger event id); a call counts
  in the range and the UTC day its `started_at` falls in; turns and tool calls count with their
  call;
* daily stats: totalCalls, resolvedByBot (not transferred), transferred, containmentPct
  (resolved / total x 100), avgDurationSec and avgQualityScore (over the calls that have one),
  totalCostUsd (sum of total_cost_usd), scenarioBreakdown, transferReasons, hourlyDistribution
  (UTC hour of the start);
* latency: stt over customer turns' stt_latency_ms, llm and tts over bot turns' values, turn =
  llm + tts of a bot turn that has both; p50/p90/p95/p99 the nearest rank (the ceil(p n / 100)-th
  smallest), and count; grouped by the call's UTC day, scenario or prompt version;
* costs: totalUsd = sum of total_cost_usd, perCallUsd = totalUsd / calls, byComponent = sums of
  cost_breakdown; grouped like latency;
* tools: per tool_name, calls, successPct, p95Ms (nearest rank over every invocation);
* A/B tests: the newest record per test; its calls are those that started in [started_at,
  ended_at) (no end: open) with the variant's prompt_version; quality p-value from Welch's t-test
  (scipy.stats.ttest_ind, equal_var=False), transfer p-value from the pooled two-proportion
  z-test, two-sided; the winner is the variant with the higher mean quality once that p < 0.05,
  else null; p-values null when a side has fewer than 2 calls;
* hand-overs: transferred calls; each joined by call_id to the first queue session that began at
  or after the bot's leg started; answered / abandoned (short abandons apart, as section 7 counts
  them) by that session's outcome; asaSec = mean wait of the answered.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scipy import stats

from switchboard.simulation.voicebot.render import AB_TESTS, CALLS, TOOL_CALLS, TURNS

PERCENTILES = (50, 90, 95, 99)
COMPONENTS = ("stt", "llm", "tts", "turn")
GROUPINGS = ("day", "scenario", "prompt_version")
SIGNIFICANCE = 0.05

Record = dict[str, Any]


@dataclass(frozen=True)
class QueueVisit:
    """One queue session the contact centre recorded for a call (section 7)."""

    enterprise_id: str
    call_id: str
    enqueued_at: datetime
    outcome: str  # answered, abandoned, short_abandoned, flow_out
    wait_ms: int


def nearest_rank(values: Sequence[int], pct: int) -> int | None:
    """The ceil(pct n / 100)-th smallest value, in integers."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[-(-pct * len(ordered) // 100) - 1]


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _pct(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def newest_calls(records: Iterable[tuple[str, Record]]) -> dict[str, Record]:
    calls: dict[str, Record] = {}
    for topic, record in records:
        if topic != CALLS:
            continue
        known = calls.get(record["call_id"])
        if known is None or _version(record) > _version(known):
            calls[record["call_id"]] = record
    return calls


def _version(record: Record) -> tuple[datetime, str]:
    return record["occurred_at"], record["event_id"]


def _day(instant: datetime) -> str:
    return instant.astimezone(UTC).date().isoformat()


def bot_truth(
    records: Sequence[tuple[str, Record]],
    visits: Iterable[QueueVisit],
    range_from: datetime,
    range_to: datetime,
) -> dict[str, Any]:
    """The expected answers of every voice-bot route for one enterprise over the range."""
    calls = {
        call_id: call
        for call_id, call in newest_calls(records).items()
        if range_from <= call["started_at"] < range_to
    }
    turns = [r for t, r in records if t == TURNS and r["call_id"] in calls]
    tools = [r for t, r in records if t == TOOL_CALLS and r["call_id"] in calls]
    ordered = sorted(calls.values(), key=lambda c: (c["started_at"], c["call_id"]))
    return {
        "dailyStats": _daily(ordered),
        "latency": _latency(turns),
        "latencyBy": {
            grouping: _grouped(calls, turns, grouping, _latency) for grouping in GROUPINGS
        },
        "costs": _costs(ordered),
        "costsBy": {grouping: _grouped_costs(ordered, grouping) for grouping in GROUPINGS},
        "tools": _tools(tools),
        "abTests": _ab_tests(records, list(newest_calls(records).values())),
        "handoffs": _handoffs(ordered, visits),
        "events": dict(sorted(Counter(t for t, _ in records).items())),
    }


# -- daily stats -------------------------------------------------------------------------------


def _daily(calls: Sequence[Record]) -> list[dict[str, Any]]:
    by_day: dict[str, list[Record]] = defaultdict(list)
    for call in calls:
        by_day[_day(call["started_at"])].append(call)
    return [_day_stats(day, by_day[day]) for day in sorted(by_day)]


def _day_stats(day: str, calls: Sequence[Record]) -> dict[str, Any]:
    transferred = [c for c in calls if c["transferred_to_operator"]]
    durations = [c["duration_seconds"] for c in calls if c["duration_seconds"] is not None]
    qualities = [c["quality_score"] for c in calls if c["quality_score"] is not None]
    costs = [c["total_cost_usd"] for c in calls if c["total_cost_usd"] is not None]
    resolved = len(calls) - len(transferred)
    hours = Counter(c["started_at"].astimezone(UTC).hour for c in calls)
    return {
        "date": day,
        "totalCalls": len(calls),
        "resolvedByBot": resolved,
        "transferred": len(transferred),
        "containmentPct": _pct(resolved, len(calls)),
        "avgDurationSec": _mean(durations),
        "avgQualityScore": _mean(qualities),
        "totalCostUsd": math.fsum(costs),
        "scenarioBreakdown": dict(sorted(Counter(c["scenario"] for c in calls).items())),
        "transferReasons": dict(sorted(Counter(c["transfer_reason"] for c in transferred).items())),
        "hourlyDistribution": {str(hour): hours[hour] for hour in range(24)},
    }


# -- latency and costs -------------------------------------------------------------------------


def _latency(turns: Sequence[Record]) -> dict[str, Any]:
    samples: dict[str, list[int]] = {name: [] for name in COMPONENTS}
    for turn in turns:
        if turn["speaker"] == "customer":
            if turn["stt_latency_ms"] is not None:
                samples["stt"].append(turn["stt_latency_ms"])
            continue
        llm, tts = turn["llm_latency_ms"], turn["tts_latency_ms"]
        if llm is not None:
            samples["llm"].append(llm)
        if tts is not None:
            samples["tts"].append(tts)
        if llm is not None and tts is not None:
            samples["turn"].append(llm + tts)
    return {
        "components": {
            name: {
                **{f"p{p}": nearest_rank(values, p) for p in PERCENTILES},
                "count": len(values),
            }
            for name, values in samples.items()
        }
    }


def _group_key(call: Record, grouping: str) -> str | None:
    if grouping == "day":
        return _day(call["started_at"])
    value = call[grouping]
    return None if value is None else str(value)


def _grouped(
    calls: Mapping[str, Record],
    turns: Sequence[Record],
    grouping: str,
    figures: Callable[[Sequence[Record]], dict[str, Any]],
) -> list[dict[str, Any]]:
    by_key: dict[str | None, list[Record]] = defaultdict(list)
    for turn in turns:
        by_key[_group_key(calls[turn["call_id"]], grouping)].append(turn)
    return [{"key": key, **figures(by_key[key])} for key in sorted(by_key, key=str)]


def _costs(calls: Sequence[Record]) -> dict[str, Any]:
    total = math.fsum(c["total_cost_usd"] for c in calls if c["total_cost_usd"] is not None)
    components: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        for component, usd in call["cost_breakdown"].items():
            components[component].append(usd)
    return {
        "calls": len(calls),
        "totalUsd": total,
        "perCallUsd": total / len(calls) if calls else None,
        "byComponent": {name: math.fsum(components[name]) for name in sorted(components)},
    }


def _grouped_costs(calls: Sequence[Record], grouping: str) -> list[dict[str, Any]]:
    by_key: dict[str | None, list[Record]] = defaultdict(list)
    for call in calls:
        by_key[_group_key(call, grouping)].append(call)
    return [{"key": key, **_costs(by_key[key])} for key in sorted(by_key, key=str)]


# -- tools -------------------------------------------------------------------------------------


def _tools(uses: Sequence[Record]) -> list[dict[str, Any]]:
    by_tool: dict[str, list[Record]] = defaultdict(list)
    for use in uses:
        by_tool[use["tool_name"]].append(use)
    return [
        {
            "toolName": name,
            "calls": len(by_tool[name]),
            "successPct": _pct(sum(u["success"] for u in by_tool[name]), len(by_tool[name])),
            "p95Ms": nearest_rank([u["duration_ms"] for u in by_tool[name]], 95),
        }
        for name in sorted(by_tool)
    ]


# -- A/B tests ---------------------------------------------------------------------------------


def _ab_tests(
    records: Sequence[tuple[str, Record]], calls: Sequence[Record]
) -> list[dict[str, Any]]:
    tests: dict[str, Record] = {}
    for topic, record in records:
        if topic == AB_TESTS:
            known = tests.get(record["test_name"])
            if known is None or _version(record) > _version(known):
                tests[record["test_name"]] = record
    return [_ab_test(tests[name], calls) for name in sorted(tests)]


def _ab_test(test: Record, calls: Sequence[Record]) -> dict[str, Any]:
    begin, end = test["started_at"], test["ended_at"]

    def of(variant: str) -> list[Record]:
        return [
            c
            for c in calls
            if c["prompt_version"] == variant
            and begin <= c["started_at"]
            and (end is None or c["started_at"] < end)
        ]

    side_a, side_b = of(test["variant_a"]), of(test["variant_b"])
    quality_a = [c["quality_score"] for c in side_a if c["quality_score"] is not None]
    quality_b = [c["quality_score"] for c in side_b if c["quality_score"] is not None]
    moved_a = sum(c["transferred_to_operator"] for c in side_a)
    moved_b = sum(c["transferred_to_operator"] for c in side_b)
    quality_p = welch_p(quality_a, quality_b)
    mean_a, mean_b = _mean(quality_a), _mean(quality_b)
    winner = None
    if quality_p is not None and quality_p < SIGNIFICANCE and mean_a is not None:
        winner = "A" if mean_b is None or mean_a > mean_b else "B"
    return {
        "testName": test["test_name"],
        "variantA": test["variant_a"],
        "variantB": test["variant_b"],
        "status": test["status"],
        "callsA": len(side_a),
        "callsB": len(side_b),
        "qualityA": mean_a,
        "qualityB": mean_b,
        "transferPctA": _pct(moved_a, len(side_a)),
        "transferPctB": _pct(moved_b, len(side_b)),
        "costPerCallA": _per_call(side_a),
        "costPerCallB": _per_call(side_b),
        "qualityPValue": quality_p,
        "transferPValue": two_proportion_p(moved_a, len(side_a), moved_b, len(side_b)),
        "winner": winner,
    }


def _per_call(calls: Sequence[Record]) -> float | None:
    costs = [c["total_cost_usd"] for c in calls if c["total_cost_usd"] is not None]
    return math.fsum(costs) / len(calls) if calls else None


def welch_p(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Welch's two-sided t-test p-value; None with fewer than 2 values on a side."""
    if len(a) < 2 or len(b) < 2:
        return None
    p = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    return None if math.isnan(p) else p


def two_proportion_p(x_a: int, n_a: int, x_b: int, n_b: int) -> float | None:
    """The pooled two-proportion z-test's two-sided p-value; None with fewer than 2 calls on a
    side, or when every call (or none) was transferred: the test is then undefined."""
    if n_a < 2 or n_b < 2:
        return None
    pooled = (x_a + x_b) / (n_a + n_b)
    if pooled in (0.0, 1.0):
        return None
    z = (x_a / n_a - x_b / n_b) / math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    return float(2 * stats.norm.sf(abs(z)))


# -- hand-overs --------------------------------------------------------------------------------


def _handoffs(calls: Sequence[Record], visits: Iterable[QueueVisit]) -> dict[str, Any]:
    by_call: dict[str, list[QueueVisit]] = defaultdict(list)
    for visit in visits:
        by_call[visit.call_id].append(visit)
    outcomes: Counter[str] = Counter()
    answered_wait_ms = 0
    transferred = [c for c in calls if c["transferred_to_operator"]]
    for call in transferred:
        following = sorted(
            (v for v in by_call.get(call["call_id"], ()) if v.enqueued_at >= call["started_at"]),
            key=lambda v: v.enqueued_at,
        )
        if not following:
            outcomes["unmatched"] += 1
            continue
        first = following[0]
        outcomes[first.outcome] += 1
        if first.outcome == "answered":
            answered_wait_ms += first.wait_ms
    answered = outcomes["answered"]
    return {
        "handoffs": len(transferred),
        "answered": answered,
        "abandoned": outcomes["abandoned"],
        "shortAbandoned": outcomes["short_abandoned"],
        "flowOut": outcomes["flow_out"],
        "unmatched": outcomes["unmatched"],
        "asaSec": answered_wait_ms / (1000 * answered) if answered else None,
    }


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def whole_hours(start: datetime, first_ms: int, end_ms: int) -> tuple[datetime, datetime]:
    """[start + first_ms, start + end_ms) widened to whole UTC hours."""
    hour = timedelta(hours=1)
    low = start + timedelta(milliseconds=first_ms)
    high = start + timedelta(milliseconds=end_ms)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    low = epoch + (low - epoch) // hour * hour
    high = epoch + -(-(high - epoch) // hour) * hour
    return low, high
