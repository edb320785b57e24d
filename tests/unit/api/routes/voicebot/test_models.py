"""The answers the voice-bot analytics build have exactly the fields the OpenAPI models
document (api/routes/voicebot/models.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import BaseModel

from api.analytics.voicebot.ab import Variant, _answer
from api.analytics.voicebot.calls import CALL_FIELDS, TOOL_CALL_FIELDS, TURN_FIELDS
from api.analytics.voicebot.costs import Costs
from api.analytics.voicebot.latency import COMPONENTS, Distribution
from api.analytics.voicebot.tools import ToolFigures
from api.routes.voicebot import models
from streams.voicebot.daily import BotCallRow, daily_stats


def fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_calls_turns_and_tool_calls() -> None:
    assert set(CALL_FIELDS.values()) == fields(models.BotCall)
    assert set(TURN_FIELDS.values()) == fields(models.Turn)
    assert set(TOOL_CALL_FIELDS.values()) == fields(models.ToolCall)


def test_days_latency_costs_and_tools() -> None:
    day = daily_stats([BotCallRow(datetime(2025, 3, 10, tzinfo=UTC))])[date(2025, 3, 10)]
    models.Day.model_validate(day.to_json())
    assert set(day.to_json()) == fields(models.Day)
    assert set(COMPONENTS) == fields(models.Components)
    assert set(Distribution.of([1]).to_json()) == fields(models.Distribution)
    assert set(Costs().to_json()) == fields(models.Costs)
    assert set(ToolFigures("t", 1, 1, 1).to_json()) == fields(models.Tool)


def test_ab_tests() -> None:
    test = {
        "test_name": "t",
        "enterprise_id": "e1",
        "variant_a": "A",
        "variant_b": "B",
        "status": "running",
        "started_at": datetime(2025, 3, 10, tzinfo=UTC),
        "ended_at": None,
    }
    answer = _answer(test, Variant(), Variant())

    models.AbTest.model_validate(answer)
    assert set(answer) == fields(models.AbTest)
