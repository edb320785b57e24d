"""The shortcut that passes plainly valid records never passes one the full walk of the rules
refuses, nor changes what is refused or why, whatever the values and the bound."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.topics import INPUT_TOPICS, Topic
from schemas.validate import _plainly_valid, _rules_of, _surely_before, _walk, validation_violation
from tests.unit.schemas.test_validate import NOW, NUMBERS, TIMESTAMPS, VALID

# Times around the default bound (300 s ahead), to the microsecond, and far off.
NEAR_BOUND = st.integers(min_value=-5_000, max_value=5_000).map(
    lambda us: NOW + timedelta(seconds=300, microseconds=us)
)
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(["", " ", "\t", "x", " x ", "{}", "[]", '{"a": "\\u0000"}', "not json"]),
    st.text(max_size=5),
    st.integers(min_value=-(2**40), max_value=2**45),
    st.floats(),
    st.sampled_from([-1.0, -0.0, 0.0, 1.0, 1.5, -1.5]),
    NEAR_BOUND,
    NEAR_BOUND.map(lambda t: t.replace(tzinfo=None)),
    st.datetimes(),
    st.lists(st.floats() | st.integers(min_value=-3, max_value=3), max_size=3),
    st.dictionaries(st.sampled_from(["stt", "sla_threshold_sec", "x"]), st.floats() | st.text()),
)
BOUNDS = st.sampled_from([300.0, 0.0, 0.0005, 299.9995, 3600.0, -1.0, 1e300, float("inf")])


def outcome(judge: Any) -> object:
    try:
        return judge()
    except Exception as exc:
        return type(exc)


@st.composite
def records(draw: st.DrawFn) -> tuple[Topic, dict[str, Any]]:
    topic = draw(st.sampled_from(INPUT_TOPICS))
    names = [f["name"] for f in topic.schema["fields"]]
    changes = draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=3))
    record = {**VALID[topic.name], **changes}
    for name in draw(st.lists(st.sampled_from(names), max_size=2)):
        record.pop(name, None)
    return topic, record


@settings(max_examples=500)
@given(records(), BOUNDS, st.sampled_from([NOW, NOW.replace(tzinfo=None)]))
def test_the_shortcut_agrees_with_the_walk(
    case: tuple[Topic, dict[str, Any]], max_future_sec: float, now: datetime
) -> None:
    topic, record = case
    assert outcome(
        lambda: validation_violation(topic, record, now=now, max_future_sec=max_future_sec)
    ) == outcome(lambda: _walk(topic, record, now, max_future_sec))


@given(
    st.sampled_from(TIMESTAMPS),
    st.integers(min_value=-3_000, max_value=3_000),
    st.integers(min_value=0, max_value=999),
    st.sampled_from([300.0, 0.0, 0.0005, 0.0015, 299.9995, 1.000001]),
)
def test_a_time_within_milliseconds_of_the_bound_is_judged_as_the_walk_judges_it(
    where: tuple[Topic, str], offset_us: int, now_us: int, max_future_sec: float
) -> None:
    topic, name = where
    now = NOW + timedelta(microseconds=now_us)
    value = now + timedelta(seconds=max_future_sec, microseconds=offset_us)
    record = {**VALID[topic.name], name: value}
    assert validation_violation(topic, record, now=now, max_future_sec=max_future_sec) == _walk(
        topic, record, now, max_future_sec
    )


@given(
    st.sampled_from(NUMBERS),
    st.floats() | st.integers() | st.sampled_from([-1, 0, 1, -1.0, -0.0, 1.0, 1.0000001]),
)
def test_a_number_is_judged_as_the_walk_judges_it(where: tuple[Topic, str], value: float) -> None:
    topic, name = where
    record = {**VALID[topic.name], name: value}
    assert validation_violation(topic, record, now=NOW) == _walk(topic, record, NOW, 300.0)


def test_the_valid_record_of_every_input_topic_takes_the_shortcut() -> None:
    for topic in INPUT_TOPICS:
        before = _surely_before(NOW, 300.0)
        assert _plainly_valid(_rules_of(topic), VALID[topic.name], before), topic.name
