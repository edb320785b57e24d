"""The six issue-13 topics (contract 4): their schemas carry a value there and back, and
validation refuses what their fields cannot mean, saying which field and value."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.jsonio import record_from_json, record_to_json
from schemas.topics import (
    INPUT_TOPICS,
    KNOWLEDGE_ARTICLES,
    VOICEBOT_AB_TESTS,
    VOICEBOT_CALLS,
    VOICEBOT_PROMPTS,
    VOICEBOT_TOOL_CALLS,
    VOICEBOT_TOPICS,
    VOICEBOT_TURNS,
    Topic,
    topic,
)
from schemas.validate import Violation, validation_error, validation_violation
from tests.unit.schemas.voicebot_records import CALL_ID, NOW, VOICEBOT_VALID


def avro_round_trip(topic: Topic, record: dict[str, Any]) -> dict[str, Any]:
    schema = fastavro.parse_schema(topic.schema)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, record, strict_allow_default=True)
    buf.seek(0)
    decoded = fastavro.schemaless_reader(buf, schema, schema)
    assert isinstance(decoded, dict)
    return decoded


def violation(topic: Topic, **changes: Any) -> Violation | None:
    return validation_violation(topic, {**VOICEBOT_VALID[topic.name], **changes}, now=NOW)


def error(topic: Topic, **changes: Any) -> str | None:
    return validation_error(topic, {**VOICEBOT_VALID[topic.name], **changes}, now=NOW)


def test_the_six_topics_are_input_topics_keyed_as_the_contract_says() -> None:
    assert [t.name for t in VOICEBOT_TOPICS] == [
        "voicebot.calls",
        "voicebot.turns",
        "voicebot.tool_calls",
        "voicebot.prompts",
        "voicebot.ab_tests",
        "knowledge.articles",
    ]
    assert set(VOICEBOT_TOPICS) <= set(INPUT_TOPICS)
    keys = {t.name: t.key_of(VOICEBOT_VALID[t.name]) for t in VOICEBOT_TOPICS}
    assert keys == {
        "voicebot.calls": CALL_ID,
        "voicebot.turns": CALL_ID,
        "voicebot.tool_calls": CALL_ID,
        "voicebot.prompts": "v2-b",
        "voicebot.ab_tests": "greeting-2026-12",
        "knowledge.articles": "kb-17",
    }
    assert topic("voicebot.calls") is VOICEBOT_CALLS


@pytest.mark.parametrize("topic", VOICEBOT_TOPICS, ids=lambda t: t.name)
def test_a_valid_value_passes_and_comes_back_from_avro_and_json_unchanged(topic: Topic) -> None:
    record = VOICEBOT_VALID[topic.name]
    assert validation_error(topic, record, now=NOW) is None
    assert avro_round_trip(topic, record) == record
    assert record_from_json(topic, record_to_json(topic, record)) == record


@pytest.mark.parametrize("topic", VOICEBOT_TOPICS, ids=lambda t: t.name)
def test_every_optional_field_is_a_null_union_defaulting_to_null(topic: Topic) -> None:
    for field in topic.schema["fields"]:
        if isinstance(field["type"], list):
            assert field["type"][0] == "null" and field["default"] is None, field["name"]


def test_a_minimal_call_takes_the_contract_defaults() -> None:
    minimal = {
        k: VOICEBOT_VALID["voicebot.calls"][k]
        for k in ("event_id", "source_system", "occurred_at", "enterprise_id", "call_id")
    }
    minimal["started_at"] = NOW
    decoded = avro_round_trip(VOICEBOT_CALLS, minimal)
    assert decoded["transferred_to_operator"] is False
    assert decoded["cost_breakdown"] == {}
    assert decoded["quality_score"] is None and decoded["ended_at"] is None
    assert validation_error(VOICEBOT_CALLS, decoded, now=NOW) is None


def test_an_article_is_not_deleted_unless_it_says_so_and_may_carry_its_own_vector() -> None:
    article = dict(VOICEBOT_VALID["knowledge.articles"])
    del article["deleted"]
    article["embedding"] = [0.25, -0.5, 1.0]
    article["embedding_model"] = "source-model"
    decoded = avro_round_trip(KNOWLEDGE_ARTICLES, article)
    assert decoded["deleted"] is False
    assert decoded["embedding"] == [0.25, -0.5, 1.0]
    assert validation_error(KNOWLEDGE_ARTICLES, decoded, now=NOW) is None


def test_a_speaker_or_status_outside_its_enum_does_not_encode() -> None:
    with pytest.raises(ValueError):
        avro_round_trip(VOICEBOT_TURNS, {**VOICEBOT_VALID["voicebot.turns"], "speaker": "agent"})
    with pytest.raises(ValueError):
        avro_round_trip(
            VOICEBOT_AB_TESTS, {**VOICEBOT_VALID["voicebot.ab_tests"], "status": "paused"}
        )


@pytest.mark.parametrize(
    ("topic", "changes", "expected"),
    [
        (
            VOICEBOT_TURNS,
            {"llm_latency_ms": -1},
            Violation(
                "llm_latency_ms",
                "llm_latency_ms must not be negative (a duration in milliseconds), got -1",
            ),
        ),
        (
            VOICEBOT_TURNS,
            {"stt_confidence": 1.2},
            Violation(
                "stt_confidence", "stt_confidence must be between 0 and 1 (a confidence), got 1.2"
            ),
        ),
        (
            VOICEBOT_TURNS,
            {"turn_number": -3},
            Violation(
                "turn_number",
                "turn_number must not be negative (a turn's number in its call), got -3",
            ),
        ),
        (
            VOICEBOT_CALLS,
            {"quality_score": 1.5},
            Violation(
                "quality_score", "quality_score must be between 0 and 1 (a quality score), got 1.5"
            ),
        ),
        (
            VOICEBOT_CALLS,
            {"quality_score": math.nan},
            Violation("quality_score", "quality_score must be a finite number, got nan"),
        ),
        (
            VOICEBOT_CALLS,
            {"duration_seconds": -5},
            Violation(
                "duration_seconds",
                "duration_seconds must not be negative (a duration in seconds), got -5",
            ),
        ),
        (
            VOICEBOT_CALLS,
            {"total_cost_usd": -0.01},
            Violation(
                "total_cost_usd",
                "total_cost_usd must not be negative (an amount in USD), got -0.01",
            ),
        ),
        (
            VOICEBOT_CALLS,
            {"cost_breakdown": {"stt": 0.01, "llm": -0.5}},
            Violation(
                "cost_breakdown.llm",
                "cost_breakdown.llm must not be negative (an amount in USD), got -0.5",
            ),
        ),
        (
            VOICEBOT_CALLS,
            {"cost_breakdown": {"tts": math.inf}},
            Violation("cost_breakdown.tts", "cost_breakdown.tts must be a finite number, got inf"),
        ),
        (
            VOICEBOT_CALLS,
            {"call_id": ""},
            Violation("call_id", "call_id must not be empty"),
        ),
        (
            VOICEBOT_TOOL_CALLS,
            {"duration_ms": -40},
            Violation(
                "duration_ms",
                "duration_ms must not be negative (a duration in milliseconds), got -40",
            ),
        ),
        (
            VOICEBOT_TOOL_CALLS,
            {"tool_args": "{width: 205}"},
            Violation(
                "tool_args",
                "tool_args must be JSON text (unexpected character, expected a string key:"
                " line 1 column 2 (char 1))",
            ),
        ),
        (
            VOICEBOT_TOOL_CALLS,
            {"tool_result": "NaN"},
            Violation(
                "tool_result",
                "tool_result must be JSON text (unexpected character, expected a JSON value:"
                " line 1 column 1 (char 0))",
            ),
        ),
        (
            VOICEBOT_TOOL_CALLS,
            {"tool_args": ""},
            Violation("tool_args", "tool_args must not be empty"),
        ),
        (
            VOICEBOT_PROMPTS,
            {"metadata": '{"note": "a\\u0000b"}'},
            Violation(
                "metadata", "metadata must not hold the character \\u0000 (JSONB refuses it)"
            ),
        ),
        (
            VOICEBOT_PROMPTS,
            {"tools_config": "[1, 2"},
            Violation(
                "tools_config",
                "tools_config must be JSON text (unexpected end of data: line 1 column 6 (char 5))",
            ),
        ),
        (
            VOICEBOT_AB_TESTS,
            {"variant_b": " "},
            Violation("variant_b", "variant_b must not be empty"),
        ),
        (
            KNOWLEDGE_ARTICLES,
            {"embedding": [0.1, math.nan]},
            Violation("embedding[1]", "embedding[1] must be a finite number, got nan"),
        ),
        (
            KNOWLEDGE_ARTICLES,
            {"embedding": []},
            Violation("embedding", "embedding must not be empty when it is given"),
        ),
        (
            KNOWLEDGE_ARTICLES,
            {"content": ""},
            Violation("content", "content must not be empty"),
        ),
    ],
)
def test_a_value_outside_its_meaning_is_refused_naming_field_and_value(
    topic: Topic, changes: dict[str, Any], expected: Violation
) -> None:
    assert violation(topic, **changes) == expected


def test_a_turn_may_be_silent_and_optional_json_may_be_absent() -> None:
    assert error(VOICEBOT_TURNS, content="") is None
    assert error(VOICEBOT_TOOL_CALLS, tool_result=None) is None
    assert error(VOICEBOT_TOOL_CALLS, tool_args="null", tool_result='"ok"') is None
    # An escaped backslash before u0000 is an ordinary string, which JSONB stores.
    assert error(VOICEBOT_PROMPTS, metadata='{"path": "C:\\\\u0000"}') is None


def test_a_start_without_an_end_passes_and_a_start_far_ahead_fails() -> None:
    assert error(VOICEBOT_CALLS, ended_at=None, duration_seconds=None, quality_score=None) is None
    reason = error(VOICEBOT_CALLS, started_at=NOW.replace(year=2200))
    assert reason is not None and reason.startswith("started_at 2200-12-06T12:00:00Z is ")


@given(st.floats(min_value=0, max_value=1))
def test_any_quality_and_confidence_in_zero_to_one_passes(value: float) -> None:
    assert error(VOICEBOT_CALLS, quality_score=value) is None
    assert error(VOICEBOT_TURNS, stt_confidence=value) is None


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: not 0 <= v <= 1))
def test_any_quality_outside_zero_to_one_fails(value: float) -> None:
    assert error(VOICEBOT_CALLS, quality_score=value) == (
        f"quality_score must be between 0 and 1 (a quality score), got {value!r}"
    )


@given(
    st.dictionaries(
        st.sampled_from(["stt", "llm", "tts", "telephony"]),
        st.floats(min_value=0, allow_infinity=False),
    )
)
def test_any_breakdown_of_finite_non_negative_costs_passes(costs: dict[str, float]) -> None:
    assert error(VOICEBOT_CALLS, cost_breakdown=costs) is None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
)


@given(JSON_VALUES)
def test_json_text_passes_exactly_when_it_holds_no_nul(value: Any) -> None:
    text = json.dumps(value)
    refused = error(VOICEBOT_TOOL_CALLS, tool_result=text) is not None
    assert refused == ("\\u0000" in text)
