"""Contract 4's rules beyond the Avro schema: no far-future time, no NaN, no negative duration,
sentiment in -1..1, typed queue attributes; each refusal says which field and value."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.topics import (
    CRM_OUTCOMES,
    DIGITAL_MESSAGES,
    DOMAIN_TOPICS,
    INGEST_INTERACTIONS,
    INPUT_TOPICS,
    REFERENCE_DIMENSIONS,
    TELEPHONY_AGENTS,
    TELEPHONY_CALLS,
    TELEPHONY_QUEUE,
    Topic,
)
from schemas.validate import (
    DURATION,
    FIELD_BOUNDS,
    SECONDS_ATTRIBUTES,
    Violation,
    non_negative_seconds,
    validation_error,
    validation_violation,
)
from streams.contact_centre.queue_thresholds import parse_seconds
from streams.reference.dimensions import QUEUE_THRESHOLDS
from tests.unit.schemas.voicebot_records import VOICEBOT_VALID

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
COMMON = {"event_id": "e1", "source_system": "unit", "occurred_at": NOW}
TENANT = {**COMMON, "enterprise_id": "0367"}
DEAL = {
    **COMMON,
    "correlation_id": "corr",
    "event_type": "crm.deal.created",
    "deal_id": "d1",
    "domain_status": "new",
}
VALID: dict[str, dict[str, Any]] = {
    TELEPHONY_CALLS.name: {
        **TENANT,
        "call_id": "c1",
        "event_type": "start",
        "call_type": "incoming",
        "extensions": [],
        "data_source": "live",
    },
    TELEPHONY_QUEUE.name: {
        **TENANT,
        "call_id": "c1",
        "queue_id": "support",
        "event_type": "connect",
        "wait_sec": 12.5,
        "talk_sec": 0.0,
        "ring_sec": 3.0,
        "position": 1,
        "channel": "voice",
    },
    TELEPHONY_AGENTS.name: {**TENANT, "agent_id": "151", "event_type": "login"},
    DIGITAL_MESSAGES.name: {
        **TENANT,
        "conversation_id": "conv",
        "message_id": "m1",
        "channel": "chat",
        "direction": "inbound",
        "sender": "customer",
    },
    CRM_OUTCOMES.name: {**COMMON, "call_id": "c1", "outcome": "sold", "sentiment": -0.5},
    REFERENCE_DIMENSIONS.name: {
        **COMMON,
        "kind": "queue",
        "id": "support",
        "name": "Support",
        "attributes": {"sla_threshold_sec": "20", "short_abandon_sec": "7.5"},
        "deleted": False,
    },
    INGEST_INTERACTIONS.name: {
        **TENANT,
        "external_id": "x1",
        "interaction_id": "x1",
        "channel": "voice",
        "started_at": NOW - timedelta(minutes=5),
        "ended_at": NOW,
        "attributes": {},
    },
    **{t.name: DEAL for t in DOMAIN_TOPICS},
    **VOICEBOT_VALID,
}


def violation(topic: Topic, **changes: Any) -> Violation | None:
    return validation_violation(topic, {**VALID[topic.name], **changes}, now=NOW)


def error(topic: Topic, **changes: Any) -> str | None:
    return validation_error(topic, {**VALID[topic.name], **changes}, now=NOW)


def fields_of(topic: Topic, *types: str) -> list[str]:
    """The top-level fields whose type, or a non-null union branch, is one of `types` (or the
    logical type timestamp-millis, given as "timestamp")."""

    def kinds(schema: Any) -> set[str]:
        branches = schema if isinstance(schema, list) else [schema]
        found = set()
        for branch in branches:
            if isinstance(branch, dict):
                found.add("timestamp" if branch.get("logicalType") else str(branch["type"]))
            else:
                found.add(branch)
        return found

    return [f["name"] for f in topic.schema["fields"] if kinds(f["type"]) & set(types)]


TIMESTAMPS = [(t, name) for t in INPUT_TOPICS for name in fields_of(t, "timestamp")]
NUMBERS = [(t, name) for t in INPUT_TOPICS for name in fields_of(t, "int", "long", "double")]


def test_the_valid_records_of_every_input_topic_pass() -> None:
    assert set(VALID) == {t.name for t in INPUT_TOPICS}
    for topic in INPUT_TOPICS:
        assert validation_error(topic, VALID[topic.name], now=NOW) is None, topic.name


def test_every_number_field_of_every_input_topic_has_bounds() -> None:
    assert NUMBERS, "the input topics have number fields"
    for topic, name in NUMBERS:
        assert name in FIELD_BOUNDS.get(topic.name, {}), f"{topic.name}.{name} has no bounds"
    for topic_name, bounds in FIELD_BOUNDS.items():
        topic = next(t for t in INPUT_TOPICS if t.name == topic_name)
        assert set(bounds) <= set(fields_of(topic, "int", "long", "double")), topic_name


@pytest.mark.parametrize(("topic", "name"), TIMESTAMPS, ids=lambda p: getattr(p, "name", p))
def test_a_time_up_to_the_limit_ahead_passes_and_one_millisecond_more_fails(
    topic: Topic, name: str
) -> None:
    # ingest.interactions requires ended_at >= started_at only at the API; the rule is per field.
    limit = NOW + timedelta(seconds=300)
    assert error(topic, **{name: limit}) is None
    found = violation(topic, **{name: limit + timedelta(milliseconds=1)})
    assert found == Violation(
        name,
        f"{name} 2026-12-06T12:05:00.001000Z is 300.001 s ahead of the wall clock"
        " (2026-12-06T12:00:00Z); at most 300 s is allowed (SWITCHBOARD_MAX_FUTURE_SEC)",
    )


def test_an_event_dated_2200_fails_on_every_input_topic() -> None:
    for topic in INPUT_TOPICS:
        reason = error(topic, occurred_at=datetime(2200, 1, 1, tzinfo=UTC))
        assert reason is not None and reason.startswith(
            "occurred_at 2200-01-01T00:00:00Z is 5461560000 s ahead of the wall clock"
        ), topic.name


def test_the_limit_is_configurable_and_times_as_epoch_millis_are_judged_too() -> None:
    record = {**VALID[TELEPHONY_CALLS.name], "occurred_at": NOW + timedelta(hours=1)}
    assert validation_error(TELEPHONY_CALLS, record, now=NOW, max_future_sec=3600) is None
    assert validation_error(TELEPHONY_CALLS, record, now=NOW, max_future_sec=3599.5)
    millis = int((NOW + timedelta(hours=1)).timestamp() * 1000)
    assert error(TELEPHONY_CALLS, occurred_at=millis) == (
        "occurred_at 2026-12-06T13:00:00Z is 3600 s ahead of the wall clock"
        " (2026-12-06T12:00:00Z); at most 300 s is allowed (SWITCHBOARD_MAX_FUTURE_SEC)"
    )


def test_the_wall_clock_is_the_default_now() -> None:
    future = datetime.now(UTC) + timedelta(days=1)
    record = {**VALID[TELEPHONY_CALLS.name], "occurred_at": future}
    assert validation_error(TELEPHONY_CALLS, record)
    assert validation_error(TELEPHONY_CALLS, {**record, "occurred_at": datetime.now(UTC)}) is None


@pytest.mark.parametrize(("topic", "name"), NUMBERS, ids=lambda p: getattr(p, "name", p))
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_fail_on_every_number_field(topic: Topic, name: str, value: float) -> None:
    assert violation(topic, **{name: value}) == Violation(
        name, f"{name} must be a finite number, got {value!r}"
    )


def test_a_sentiment_of_nan_fails() -> None:
    assert error(CRM_OUTCOMES, sentiment=math.nan) == "sentiment must be a finite number, got nan"


DURATIONS = [name for name, bounds in FIELD_BOUNDS["telephony.queue"].items() if bounds is DURATION]


def test_the_queue_durations_are_wait_talk_and_ring() -> None:
    assert DURATIONS == ["wait_sec", "talk_sec", "ring_sec"]


@given(name=st.sampled_from(DURATIONS), value=st.floats(min_value=0, allow_infinity=False))
def test_any_finite_non_negative_duration_passes(name: str, value: float) -> None:
    assert error(TELEPHONY_QUEUE, **{name: value}) is None


@given(
    name=st.sampled_from(DURATIONS),
    value=st.floats(max_value=0, exclude_max=True, allow_infinity=False, allow_nan=False),
)
def test_any_negative_duration_fails_naming_the_field_and_value(name: str, value: float) -> None:
    assert violation(TELEPHONY_QUEUE, **{name: value}) == Violation(
        name, f"{name} must not be negative (a duration in seconds), got {value!r}"
    )


def test_a_wait_of_minus_a_billion_seconds_fails() -> None:
    assert error(TELEPHONY_QUEUE, wait_sec=-1e9) == (
        "wait_sec must not be negative (a duration in seconds), got -1000000000.0"
    )


def test_a_negative_position_fails_and_an_absent_number_passes() -> None:
    assert error(TELEPHONY_QUEUE, position=-1) == (
        "position must not be negative (a position in the queue), got -1"
    )
    assert error(TELEPHONY_QUEUE, wait_sec=None, position=None) is None


@given(st.floats(min_value=-1, max_value=1))
def test_any_sentiment_in_minus_one_to_one_passes(value: float) -> None:
    assert error(CRM_OUTCOMES, sentiment=value) is None


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: abs(v) > 1))
def test_any_sentiment_outside_minus_one_to_one_fails(value: float) -> None:
    assert error(CRM_OUTCOMES, sentiment=value) == (
        f"sentiment must be between -1 and 1 (a sentiment), got {value!r}"
    )


def queue_dimension(**attributes: str) -> dict[str, Any]:
    return {**VALID[REFERENCE_DIMENSIONS.name], "attributes": attributes}


@pytest.mark.parametrize("attribute", ["sla_threshold_sec", "short_abandon_sec"])
@pytest.mark.parametrize("value", ["abc", "-5", "nan", "inf", "", "20s"])
def test_a_queue_threshold_that_is_not_a_non_negative_number_fails(
    attribute: str, value: str
) -> None:
    found = validation_violation(
        REFERENCE_DIMENSIONS, queue_dimension(**{attribute: value}), now=NOW
    )
    assert found == Violation(
        f"attributes.{attribute}",
        f"attribute {attribute} of a queue must be a non-negative number of seconds, got {value!r}",
    )


@given(st.floats(min_value=0, allow_infinity=False).map(repr) | st.integers(min_value=0).map(str))
def test_any_non_negative_number_is_a_valid_threshold_and_means_the_same_to_the_fold(
    text: str,
) -> None:
    record = queue_dimension(sla_threshold_sec=text, short_abandon_sec=text)
    assert validation_error(REFERENCE_DIMENSIONS, record, now=NOW) is None
    assert parse_seconds(text) == non_negative_seconds(text) == float(text)


@given(st.text())
def test_validation_refuses_exactly_the_thresholds_the_fold_would_ignore(text: str) -> None:
    record = queue_dimension(sla_threshold_sec=text)
    refused = validation_error(REFERENCE_DIMENSIONS, record, now=NOW)
    assert (refused is not None) == (parse_seconds(text) is None)


def test_other_kinds_and_other_attributes_are_free_text() -> None:
    agent = {**queue_dimension(sla_threshold_sec="abc"), "kind": "agent"}
    assert validation_error(REFERENCE_DIMENSIONS, agent, now=NOW) is None
    other = queue_dimension(colour="-5", sla_threshold_sec="30")
    assert validation_error(REFERENCE_DIMENSIONS, other, now=NOW) is None


def test_the_typed_queue_attributes_are_the_ones_the_stream_computes_with() -> None:
    assert set(SECONDS_ATTRIBUTES["queue"]) == set(QUEUE_THRESHOLDS)


def test_the_old_rules_still_come_first() -> None:
    assert error(
        TELEPHONY_CALLS, enterprise_id="", occurred_at=datetime(2200, 1, 1, tzinfo=UTC)
    ) == ("enterprise_id must not be empty")
    assert violation(CRM_OUTCOMES, call_id=None) == Violation(
        "", "none of call_id, conversation_id, external_id is set: the event has no key"
    )


def test_a_string_left_out_is_judged_by_its_schema_default() -> None:
    without_channel = {k: v for k, v in VALID[TELEPHONY_QUEUE.name].items() if k != "channel"}
    assert validation_error(TELEPHONY_QUEUE, without_channel, now=NOW) is None
    assert error(TELEPHONY_QUEUE, channel="") == "channel must not be empty"
