"""The simulated voice bot: valid records, realistic calls, prompt B really better, hand-overs
that land in the contact centre's queues under the same call id, and a truth that reads the
records as the contract defines its figures."""

from __future__ import annotations

import heapq
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
import pytest
from scipy import stats

from schemas.topics import topic
from schemas.validate import validation_error
from switchboard.simulation import SimEvent, command
from switchboard.simulation.contact_centre import CentreConfig, ContactCentre, Window
from switchboard.simulation.contact_centre.config import queue_profiles
from switchboard.simulation.runner import (
    DAY_SCENARIOS,
    SimulationOptions,
    build_timeline,
    write_truth,
)
from switchboard.simulation.voicebot import BotConfig, VoiceBot, visits_of
from switchboard.simulation.voicebot.truth import (
    QueueVisit,
    bot_truth,
    nearest_rank,
    two_proportion_p,
)

DAY = date(2026, 11, 20)
MIDNIGHT = datetime(2026, 11, 20, tzinfo=UTC)
TENANTS = ("0367", "0412")
QUEUES = tuple(q.slug for q in queue_profiles(3))


def bot_day(seed: int = 3, calls_per_hour: float = 20.0) -> VoiceBot:
    """A bot's day, not yet run."""
    return VoiceBot.day(
        DAY,
        BotConfig(calls_per_hour=calls_per_hour),
        seed=seed,
        enterprises=TENANTS,
        queues=QUEUES,
        operators=Window.day(),
    )


def ran(bot: VoiceBot) -> VoiceBot:
    """The bot once its events are all taken: its truth is of what it published."""
    for _ in bot.events():
        pass
    return bot


@cache
def together(seed: int = 3) -> tuple[tuple[SimEvent, ...], VoiceBot, ContactCentre]:
    """A day of the bot in front of a small contact centre, run as the simulator runs them."""
    bot = bot_day(seed)
    centre = ContactCentre.day(
        DAY, CentreConfig(calls_per_hour=20), seed=seed, enterprises=TENANTS, handoffs=bot.handoffs
    )
    events = tuple(heapq.merge(bot.events(), centre.events(), key=lambda e: e.due))
    return events, bot, centre


def records(name: str, events: Iterable[SimEvent]) -> list[dict[str, Any]]:
    return [e.record for e in events if e.topic == name]


def final_calls(events: Iterable[SimEvent]) -> list[dict[str, Any]]:
    return [r for r in records("voicebot.calls", events) if r["ended_at"] is not None]


def test_the_same_seed_gives_the_same_calls_and_the_same_truth() -> None:
    first, again, other = bot_day(5), bot_day(5), bot_day(6)
    a, b, c = list(first.events()), list(again.events()), list(other.events())

    assert a == b
    assert json.dumps(first.truth()) == json.dumps(again.truth())
    assert first.truth()["enterprises"]["0367"]["dailyStats"]
    assert [e.record for e in a] != [e.record for e in c]


@pytest.mark.parametrize("seed", [3, 8])
def test_every_record_is_valid_on_its_topic_and_keyed_by_its_key(seed: int) -> None:
    events = list(bot_day(seed).events())
    assert {e.topic for e in events} == set(VoiceBot.topics)
    schemas = {name: fastavro.parse_schema(topic(name).schema) for name in VoiceBot.topics}
    for event in events:
        schema = schemas[event.topic]
        fastavro.schemaless_writer(io.BytesIO(), schema, event.record, strict=True)
        assert validation_error(topic(event.topic), event.record) is None, event.record
        assert event.key == topic(event.topic).key_of(event.record)
        assert event.record["occurred_at"].microsecond % 1000 == 0
        assert event.due == (event.record["occurred_at"] - MIDNIGHT).total_seconds()
    assert len({e.record["event_id"] for e in events}) == len(events)
    assert [e.due for e in events] == sorted(e.due for e in events)


def test_a_call_starts_ends_in_whole_seconds_and_its_turns_and_tools_fall_within() -> None:
    events = list(bot_day().events())
    turns: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for turn in records("voicebot.turns", events):
        turns[turn["call_id"]].append(turn)
    tools: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for use in records("voicebot.tool_calls", events):
        tools[use["call_id"]].append(use)
    starts = [r for r in records("voicebot.calls", events) if r["ended_at"] is None]
    finals = final_calls(events)

    assert len(starts) == len(finals) > 400
    for call in finals:
        start, end = call["started_at"], call["ended_at"]
        assert start.date() == DAY and end.date() == DAY
        assert end - start == timedelta(seconds=call["duration_seconds"])
        mine = turns[call["call_id"]]
        assert [t["turn_number"] for t in mine] == list(range(len(mine)))
        assert mine[0]["speaker"] == "bot" and mine[0]["llm_latency_ms"] is None  # recorded
        assert all(start < t["occurred_at"] <= end for t in mine)
        for use in tools[call["call_id"]]:
            assert start < use["occurred_at"] <= end
            assert any(t["turn_number"] == use["turn_number"] for t in mine)
        assert call["total_cost_usd"] == pytest.approx(sum(call["cost_breakdown"].values()))
        assert set(call["cost_breakdown"]) == {"stt", "llm", "tts", "telephony"}
        if call["order_id"] is not None:
            assert any(
                u["tool_name"] == "create_order" and u["success"] for u in tools[call["call_id"]]
            )


def test_latencies_are_those_of_a_real_voice_pipeline() -> None:
    latency = ran(bot_day()).truth()["enterprises"]["0367"]["latency"]["components"]

    assert 120 <= latency["stt"]["p50"] <= 300 and latency["stt"]["p99"] <= 2500
    assert 450 <= latency["llm"]["p50"] <= 900 and latency["llm"]["p99"] < 9000
    assert 150 <= latency["tts"]["p50"] <= 300
    assert latency["turn"]["count"] == latency["llm"]["count"]


def test_tools_fail_sometimes_and_a_failure_is_slow() -> None:
    uses = records("voicebot.tool_calls", bot_day().events())
    failed = [u for u in uses if not u["success"]]

    assert 0.01 < len(failed) / len(uses) < 0.15
    assert {u["tool_name"] for u in uses} >= {"search_tires", "get_order_status", "book_fitting"}
    timeouts = [u for u in failed if u["tool_result"] is None]
    assert timeouts and all(u["duration_ms"] >= 1500 for u in timeouts)


def test_prompt_b_is_really_better_and_the_test_says_so() -> None:
    bot = ran(bot_day(calls_per_hour=30))
    for enterprise, truth in bot.truth()["enterprises"].items():
        (test,) = truth["abTests"]
        assert test["status"] == "finished", enterprise
        assert test["qualityB"] > test["qualityA"]
        assert test["transferPctB"] < test["transferPctA"] + 5
        assert test["qualityPValue"] < 0.05 and test["winner"] == "B"
        # Calls on the legacy prompt are outside the test.
        calls = sum(day["totalCalls"] for day in truth["dailyStats"])
        assert test["callsA"] + test["callsB"] < calls


def test_handoffs_enter_the_contact_centres_queues_under_the_bots_call_id() -> None:
    events, bot, centre = together()
    queue_calls = {r["call_id"] for r in records("telephony.queue", events)}
    transferred = [c for c in final_calls(events) if c["transferred_to_operator"]]
    reasons = {c["transfer_reason"] for c in transferred}

    assert len(transferred) > 20
    assert {"customer_request", "tool_failure"} <= reasons
    for call in transferred:
        assert call["call_id"] in queue_calls
        assert Window.day().open_ms <= (call["ended_at"] - MIDNIGHT).total_seconds() * 1000
    for enterprise in TENANTS:
        handoffs = bot.truth(visits_of(centre))["enterprises"][enterprise]["handoffs"]
        assert handoffs["unmatched"] == 0
        assert (
            handoffs["answered"]
            + handoffs["abandoned"]
            + handoffs["shortAbandoned"]
            + (handoffs["flowOut"])
            == handoffs["handoffs"]
        )
        assert handoffs["answered"] > 0 and handoffs["asaSec"] > 0
        # The contact centre's own truth counts the hand-overs among its sessions.
        assert centre.truth()["enterprises"][enterprise]["kpis"]["offered"] > handoffs["handoffs"]


def test_without_a_contact_centre_a_handoff_joins_nothing() -> None:
    truth = ran(bot_day()).truth()["enterprises"]["0412"]["handoffs"]
    assert truth["handoffs"] == truth["unmatched"] > 0
    assert truth["answered"] == 0 and truth["asaSec"] is None


def test_a_day_is_the_seeds_size_and_busiest_late_morning() -> None:
    day = ran(bot_day(calls_per_hour=30)).truth()["enterprises"]["0367"]["dailyStats"]
    (only,) = day
    hours = only["hourlyDistribution"]

    assert 300 < only["totalCalls"] < 600  # seed 004: about 500 calls a day
    assert sum(hours.values()) == only["totalCalls"]
    assert all(hours[str(h)] == 0 for h in (*range(7), 22, 23))
    assert hours["11"] > hours["7"] and hours["11"] > hours["21"]
    assert 70 < only["containmentPct"] < 95


def test_a_live_bot_stopped_early_starts_no_more_calls() -> None:
    start = datetime(2026, 11, 23, 10, tzinfo=UTC)
    bot = VoiceBot.live(
        start, 600, BotConfig(calls_per_hour=360), seed=1, enterprises=("0367",), queues=QUEUES
    )
    stream = bot.events()
    taken = [next(stream) for _ in range(200)]
    bot.stop_arrivals()
    rest = list(stream)
    stop = taken[-1].due

    assert bot.draining
    starts = [e for e in rest if e.topic == "voicebot.calls" and e.record["ended_at"] is None]
    assert all(e.due <= stop for e in starts)
    finals = [e for e in (*taken, *rest) if e.topic == "voicebot.calls" and e.record["ended_at"]]
    assert len(finals) == bot.started


# -- the truth's reading of records, on hand-made ones ------------------------------------------

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)


def call(call_id: str, minute: int, **fields: Any) -> tuple[str, dict[str, Any]]:
    record = {
        "event_id": f"e-{call_id}-{minute}",
        "occurred_at": T0 + timedelta(minutes=minute, seconds=90),
        "call_id": call_id,
        "started_at": T0 + timedelta(minutes=minute),
        "ended_at": T0 + timedelta(minutes=minute, seconds=60),
        "duration_seconds": 60,
        "scenario": "tire_search",
        "transferred_to_operator": False,
        "transfer_reason": None,
        "prompt_version": "a",
        "quality_score": 0.5,
        "cost_breakdown": {"stt": 0.01, "llm": 0.02},
        "total_cost_usd": 0.03,
    } | fields
    return "voicebot.calls", record


def turn(call_id: str, number: int, speaker: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    return "voicebot.turns", {
        "call_id": call_id,
        "turn_number": number,
        "speaker": speaker,
        "stt_latency_ms": None,
        "llm_latency_ms": None,
        "tts_latency_ms": None,
    } | fields


def test_nearest_rank_is_the_ceil_p_n_over_100th_smallest() -> None:
    values = list(range(1, 21))  # 1..20
    assert nearest_rank(values, 50) == 10
    assert nearest_rank(values, 95) == 19
    assert nearest_rank(values, 99) == 20
    assert nearest_rank([7], 50) == 7
    assert nearest_rank([], 50) is None


def test_the_truth_reads_the_newest_call_version_and_counts_by_the_start() -> None:
    started = call("c1", 0, ended_at=None, duration_seconds=None, quality_score=None)
    started[1]["occurred_at"] = T0
    moved = call("c2", 10, transferred_to_operator=True, transfer_reason="complaint")
    records = [
        call("c1", 0),
        started,  # older: changes nothing
        moved,
        call("c3", 24 * 60),  # the next day: outside the range
        turn("c1", 1, "customer", stt_latency_ms=100),
        turn("c1", 2, "bot", llm_latency_ms=500, tts_latency_ms=200),
        turn("c1", 0, "bot"),  # pre-recorded: no latency
        turn("c2", 2, "bot", llm_latency_ms=700, tts_latency_ms=None),
        turn("c3", 1, "customer", stt_latency_ms=999),
    ]
    visits = [
        QueueVisit("e", "c2", T0 - timedelta(hours=1), "abandoned", 5000),  # before the call
        QueueVisit("e", "c2", T0 + timedelta(minutes=11, seconds=5), "answered", 12_000),
    ]
    truth = bot_truth(records, visits, T0 - timedelta(hours=9), T0 + timedelta(hours=15))

    (day,) = truth["dailyStats"]
    assert day["totalCalls"] == 2 and day["transferred"] == 1
    assert day["containmentPct"] == 50.0
    assert day["avgQualityScore"] == 0.5
    assert day["transferReasons"] == {"complaint": 1}
    assert day["hourlyDistribution"]["9"] == 2
    latency = truth["latency"]["components"]
    assert latency["stt"] == {"p50": 100, "p90": 100, "p95": 100, "p99": 100, "count": 1}
    assert latency["llm"]["count"] == 2 and latency["llm"]["p99"] == 700
    assert latency["turn"] == {"p50": 700, "p90": 700, "p95": 700, "p99": 700, "count": 1}
    assert truth["costs"]["totalUsd"] == pytest.approx(0.06)
    assert truth["costs"]["byComponent"] == pytest.approx({"stt": 0.02, "llm": 0.04})
    assert truth["handoffs"] == {
        "handoffs": 1,
        "answered": 1,
        "abandoned": 0,
        "shortAbandoned": 0,
        "flowOut": 0,
        "unmatched": 0,
        "asaSec": 12.0,
    }


def test_the_ab_truth_uses_scipys_welch_test_and_the_pooled_z_test() -> None:
    qualities_a = [0.5, 0.55, 0.6, 0.52, 0.58]
    qualities_b = [0.7, 0.75, 0.72, 0.8, 0.68]
    records = [
        (
            "voicebot.ab_tests",
            {
                "event_id": "t1",
                "occurred_at": T0,
                "test_name": "t",
                "variant_a": "a",
                "variant_b": "b",
                "status": "running",
                "started_at": T0,
                "ended_at": None,
            },
        ),
        *(
            call(f"a{n}", n, quality_score=q, transferred_to_operator=n < 2)
            for n, q in enumerate(qualities_a)
        ),
        *(call(f"b{n}", n, quality_score=q, prompt_version="b") for n, q in enumerate(qualities_b)),
        call("early", -5, prompt_version="b", quality_score=0.0),  # before the test
    ]
    (test,) = bot_truth(records, (), T0 - timedelta(hours=1), T0 + timedelta(hours=1))["abTests"]

    assert (test["callsA"], test["callsB"]) == (5, 5)
    welch = stats.ttest_ind(qualities_a, qualities_b, equal_var=False).pvalue
    assert test["qualityPValue"] == pytest.approx(welch, abs=1e-12)
    assert test["winner"] == "B"
    assert test["transferPctA"] == 40.0 and test["transferPctB"] == 0.0
    assert test["transferPValue"] == pytest.approx(two_proportion_p(2, 5, 0, 5))
    assert two_proportion_p(0, 5, 0, 5) is None and two_proportion_p(1, 1, 0, 5) is None


def test_a_day_runs_the_bot_in_front_of_the_centre_and_writes_both_truths(tmp_path: Path) -> None:
    options = SimulationOptions(
        duration=60,
        rate=20,
        seed=7,
        scenarios=DAY_SCENARIOS,
        day=DAY,
        centre=CentreConfig(calls_per_hour=10),
        bot=BotConfig(calls_per_hour=6),
    )
    timeline, sources = build_timeline(options, options.start_time(MIDNIGHT))
    events = list(timeline)
    centre = next(s for s in sources if isinstance(s, ContactCentre))
    bot = next(s for s in sources if isinstance(s, VoiceBot))
    write_truth(tmp_path / "truth.json", centre, bot)
    truth = json.loads((tmp_path / "truth.json").read_text())

    assert {e.topic for e in events} == set(ContactCentre.topics) | set(VoiceBot.topics)
    assert set(truth["enterprises"]) == set(truth["voicebot"]["enterprises"])
    assert (truth["voicebot"]["from"], truth["voicebot"]["to"]) == (truth["from"], truth["to"])
    for figures in truth["voicebot"]["enterprises"].values():
        assert figures["handoffs"]["handoffs"] > 0 and figures["handoffs"]["unmatched"] == 0


def test_a_day_simulates_the_centre_and_its_bot_and_either_has_a_truth() -> None:
    assert command._scenarios(None, DAY) == ("contact-centre", "voicebot")
    assert "voicebot" in command._scenarios(["all"], None)
    common: dict[str, Any] = {
        "duration": 60,
        "rate": 20,
        "speed": 0,
        "deal_rate": None,
        "day": DAY,
        "calls_per_hour": None,
        "conversations_per_hour": None,
    }
    assert command._problem(scenarios=("voicebot",), expected="t.json", **common) is None
    refused = command._problem(
        scenarios=("voicebot",), bot_calls_per_hour=-1, **common | {"expected": None}
    )
    assert refused == "--bot-calls-per-hour must not be negative, got -1"
