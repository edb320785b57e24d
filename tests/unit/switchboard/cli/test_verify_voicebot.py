"""The voice-bot comparison of `switchboard verify`: exact counts, 0.01 for seconds and money,
1e-6 for p-values, and every missing or extra row named."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from switchboard.cli.mismatch import Mismatch
from switchboard.cli.verify_voicebot import GROUPINGS, compare_bot
from switchboard.simulation.contact_centre import Window
from switchboard.simulation.voicebot import BotConfig, VoiceBot


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    bot = VoiceBot.day(
        date(2026, 11, 20),
        BotConfig(calls_per_hour=5),
        seed=4,
        enterprises=("e",),
        queues=("sales",),
        operators=Window.day(),
    )
    for _ in bot.events():
        pass
    figures: dict[str, Any] = bot.truth()["enterprises"]["e"]
    return figures


def answers(truth: dict[str, Any]) -> dict[str, Any]:
    """What an API agreeing with the truth answers."""
    return {
        "daily-stats": {"days": truth["dailyStats"]},
        "latency": truth["latency"],
        "costs": truth["costs"],
        "tools": {"tools": truth["tools"]},
        "ab-tests": {"tests": truth["abTests"]},
        "handoffs": truth["handoffs"],
        "latencyBy": {g: {"groups": truth["latencyBy"][g]} for g in GROUPINGS},
        "costsBy": {g: {"groups": truth["costsBy"][g]} for g in GROUPINGS},
    }


def test_an_api_that_agrees_has_no_mismatch(truth: dict[str, Any]) -> None:
    assert compare_bot("e", truth, answers(truth)) == []


def test_each_kind_of_figure_has_its_precision(truth: dict[str, Any]) -> None:
    api = answers(copy.deepcopy(truth))
    day = api["daily-stats"]["days"][0]
    day["totalCalls"] += 1  # a count: exact
    day["avgDurationSec"] += 0.009  # seconds: within 0.01
    day["totalCostUsd"] += 0.02  # money: not within 0.01
    day["hourlyDistribution"].pop("3")  # an hour left out is 0 calls
    test = api["ab-tests"]["tests"][0]
    test["qualityPValue"] += 2e-6
    test["transferPValue"] = (test["transferPValue"] or 0) + 5e-7

    found = {(m.where, m.name) for m in compare_bot("e", truth, api)}

    assert found == {
        (f"e voicebot day {day['date']}", "totalCalls"),
        (f"e voicebot day {day['date']}", "totalCostUsd"),
        (f"e voicebot ab-test {test['testName']}", "qualityPValue"),
    }


def test_a_missing_or_extra_row_is_named(truth: dict[str, Any]) -> None:
    api = answers(copy.deepcopy(truth))
    dropped = api["tools"]["tools"].pop(0)
    api["tools"]["tools"].append({"toolName": "teleport", "calls": 1})
    api["latencyBy"]["scenario"]["groups"].pop()

    found = compare_bot("e", truth, api)

    assert Mismatch(f"e voicebot tool {dropped['toolName']}", "tool", "present", None) in found
    assert Mismatch("e voicebot tool teleport", "tool", None, "present") in found
    missing = truth["latencyBy"]["scenario"][-1]["key"]
    where = f"e voicebot latency by scenario {missing}"
    assert Mismatch(where, "latency by scenario", "present", None) in found
    assert len(found) == 3
