"""Decoded voice-bot values: every field of the contract lands in its dataclass."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from streams.voicebot.events import (
    AbTest,
    BotCallEvent,
    BotToolCall,
    BotTurn,
    KnowledgeArticle,
    PromptVersion,
)
from tests.unit.schemas.voicebot_records import CALL_ID, NOW, VOICEBOT_VALID


def valid(topic: str, **changes: Any) -> dict[str, Any]:
    return {**VOICEBOT_VALID[topic], **changes}


def test_a_call_keeps_every_field_and_its_costs_are_read_only() -> None:
    call = BotCallEvent.from_record("k1", valid("voicebot.calls"))
    assert (call.event_key, call.enterprise_id, call.occurred_at) == ("k1", "0367", NOW)
    assert call.call_id == CALL_ID and call.started_at == NOW - timedelta(minutes=3)
    assert call.duration_seconds == 180 and call.transferred_to_operator is True
    assert call.transfer_reason == "complex_question" and call.prompt_version == "v2-b"
    assert call.quality_score == 0.8 and call.total_cost_usd == 0.06
    assert dict(call.cost_breakdown) == {"llm": 0.03, "stt": 0.01, "telephony": 0.0, "tts": 0.02}
    with pytest.raises(TypeError):
        call.cost_breakdown["llm"] = 1.0  # type: ignore[index]
    assert call.version == (NOW, "k1")


def test_two_decodings_of_one_call_are_equal_and_hash_alike() -> None:
    record = valid("voicebot.calls")
    shuffled = valid(
        "voicebot.calls", cost_breakdown=dict(reversed(record["cost_breakdown"].items()))
    )
    one, two = BotCallEvent.from_record("k", record), BotCallEvent.from_record("k", shuffled)
    assert one == two and hash(one) == hash(two) and len({one, two}) == 1


def test_a_call_start_has_the_defaults() -> None:
    start = BotCallEvent.from_record(
        "k",
        {
            k: v
            for k, v in valid("voicebot.calls").items()
            if k in ("event_id", "source_system", "occurred_at", "enterprise_id", "call_id")
            or k == "started_at"
        },
    )
    assert start.transferred_to_operator is False and dict(start.cost_breakdown) == {}
    assert start.ended_at is None and start.quality_score is None


def test_turns_tool_calls_prompts_tests_and_articles_decode() -> None:
    turn = BotTurn.from_record("t", valid("voicebot.turns"))
    assert (turn.turn_number, turn.speaker, turn.stt_latency_ms, turn.llm_latency_ms) == (
        0,
        "customer",
        220,
        None,
    )
    assert turn.created_at == NOW
    tool = BotToolCall.from_record("u", valid("voicebot.tool_calls"))
    assert (tool.tool_name, tool.duration_ms, tool.success, tool.tool_result) == (
        "search_tires",
        340,
        True,
        '{"found": 12}',
    )
    prompt = PromptVersion.from_record("p", valid("voicebot.prompts"))
    assert (prompt.name, prompt.is_active, prompt.metadata) == ("v2-b", True, "{}")
    test = AbTest.from_record("a", valid("voicebot.ab_tests"))
    assert (test.variant_a, test.variant_b, test.status, test.ended_at) == (
        "v2-a",
        "v2-b",
        "running",
        None,
    )
    article = KnowledgeArticle.from_record("kb", valid("knowledge.articles", embedding=[0.5, 1]))
    assert article.embedding == (0.5, 1.0) and article.searchable
    assert not KnowledgeArticle.from_record(
        "kb", valid("knowledge.articles", active=False)
    ).searchable
    assert not KnowledgeArticle.from_record(
        "kb", valid("knowledge.articles", deleted=True)
    ).searchable


def test_a_test_covers_the_calls_started_from_its_start_until_its_end() -> None:
    test = AbTest.from_record("a", valid("voicebot.ab_tests", ended_at=NOW))
    start = test.started_at
    assert test.covers(start) and test.covers(NOW - timedelta(milliseconds=1))
    assert not test.covers(start - timedelta(milliseconds=1)) and not test.covers(NOW)
    running = AbTest.from_record("a", valid("voicebot.ab_tests"))
    assert running.covers(NOW + timedelta(days=365))
