"""Schema identity and compatibility as the built-in registry decides them."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from schemas.registry.compat import (
    DEFAULT_LEVEL,
    AvroSchema,
    CompatibilityLevel,
    incompatibilities,
    parse_avro,
    parse_level,
)
from schemas.registry.errors import InvalidCompatibilityLevel, InvalidSchema
from schemas.topics import ALL_TOPICS, Topic

BACKWARD = CompatibilityLevel.BACKWARD
BACKWARD_TRANSITIVE = CompatibilityLevel.BACKWARD_TRANSITIVE
FORWARD = CompatibilityLevel.FORWARD
FULL = CompatibilityLevel.FULL
NONE = CompatibilityLevel.NONE

OPTIONAL_NOTE = {"name": "note", "type": ["null", "string"], "default": None}
REQUIRED_NOTE = {"name": "note", "type": "string"}


def record(*fields: dict[str, Any], name: str = "Call") -> AvroSchema:
    document = {"type": "record", "name": name, "namespace": "test", "fields": list(fields)}
    return parse_avro(orjson.dumps(document).decode())


def field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


CALL_ID = field("call_id", "string")


class TestIdentity:
    def test_layout_and_key_order_do_not_change_the_fingerprint(self) -> None:
        compact = parse_avro('{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}')
        spread = parse_avro(
            '{\n  "fields": [ {"type": {"type": "int"}, "name": "a"} ],\n'
            '  "name": "R",\n  "type": "record"\n}'
        )
        assert compact.fingerprint == spread.fingerprint
        assert compact.canonical == spread.canonical

    def test_the_text_as_written_is_kept(self) -> None:
        text = '{ "type" : "string" }'
        assert parse_avro(text).text == text

    def test_a_different_default_is_a_different_schema(self) -> None:
        with_null = record(CALL_ID, field("n", ["null", "int"], default=None))
        with_int = record(CALL_ID, field("n", ["int", "null"], default=0))
        assert with_null.fingerprint != with_int.fingerprint

    def test_a_doc_change_is_a_different_schema(self) -> None:
        plain = record(CALL_ID)
        documented = record(field("call_id", "string", doc="Asterisk UniqueId"))
        assert plain.fingerprint != documented.fingerprint

    @pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda t: t.name)
    def test_every_topic_schema_is_valid(self, topic: Topic) -> None:
        assert parse_avro(topic.schema_str).canonical


class TestInvalidSchemas:
    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("{not json", "not JSON"),
            ('{"type": "strin"}', "strin"),
            ('{"type": "record", "name": "R", "fields": "a"}', ""),
            (
                '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int",'
                ' "default": "abc"}]}',
                "abc",
            ),
            ('{"type": "enum", "name": "E", "symbols": ["A"], "default": "B"}', "B"),
            ('["null", "null"]', "null"),
            ("42", ""),
        ],
        ids=[
            "not-json",
            "unknown-type",
            "fields-not-a-list",
            "default-of-wrong-type",
            "enum-default-not-a-symbol",
            "duplicate-union-branch",
            "not-a-schema",
        ],
    )
    def test_is_rejected_with_the_reason(self, text: str, reason: str) -> None:
        with pytest.raises(InvalidSchema) as raised:
            parse_avro(text)
        assert raised.value.error_code == 42201
        assert reason in raised.value.message


class TestLevels:
    def test_default_is_backward(self) -> None:
        assert DEFAULT_LEVEL is BACKWARD

    @pytest.mark.parametrize("text", ["FULL", "full", " Full "])
    def test_names_are_case_insensitive(self, text: str) -> None:
        assert parse_level(text) is FULL

    @pytest.mark.parametrize("value", ["SIDEWAYS", "", None, 3])
    def test_unknown_levels_are_rejected(self, value: object) -> None:
        with pytest.raises(InvalidCompatibilityLevel) as raised:
            parse_level(value)
        assert raised.value.error_code == 42203

    def test_directions(self) -> None:
        assert BACKWARD.backward and not BACKWARD.forward and not BACKWARD.transitive
        assert FORWARD.forward and not FORWARD.backward
        assert FULL.backward and FULL.forward
        assert CompatibilityLevel.FULL_TRANSITIVE.transitive
        assert not (NONE.backward or NONE.forward)


class TestBackward:
    def test_adding_an_optional_field_is_compatible(self) -> None:
        assert incompatibilities(BACKWARD, record(CALL_ID, OPTIONAL_NOTE), [record(CALL_ID)]) == []

    def test_adding_a_required_field_is_not(self) -> None:
        problems = incompatibilities(BACKWARD, record(CALL_ID, REQUIRED_NOTE), [record(CALL_ID)])
        assert len(problems) == 1
        assert "READER_FIELD_MISSING_DEFAULT_VALUE" in problems[0]
        assert "note" in problems[0]

    def test_removing_a_field_is_compatible(self) -> None:
        assert incompatibilities(BACKWARD, record(CALL_ID), [record(CALL_ID, REQUIRED_NOTE)]) == []

    def test_widening_int_to_long_is_compatible_and_narrowing_is_not(self) -> None:
        as_int, as_long = record(field("n", "int")), record(field("n", "long"))
        assert incompatibilities(BACKWARD, as_long, [as_int]) == []
        assert incompatibilities(BACKWARD, as_int, [as_long]) != []

    def test_adding_an_enum_symbol_is_compatible(self) -> None:
        old = record(field("e", {"type": "enum", "name": "E", "symbols": ["A"]}))
        new = record(field("e", {"type": "enum", "name": "E", "symbols": ["A", "B"]}))
        assert incompatibilities(BACKWARD, new, [old]) == []

    def test_renaming_the_record_is_not(self) -> None:
        assert incompatibilities(BACKWARD, record(CALL_ID, name="Other"), [record(CALL_ID)]) != []

    def test_only_the_latest_version_is_checked(self) -> None:
        v1 = record(CALL_ID, field("n", "string"))
        v2 = record(CALL_ID)
        v3 = record(CALL_ID, field("n", "int", default=0))
        assert incompatibilities(BACKWARD, v3, [v1, v2]) == []
        assert incompatibilities(BACKWARD_TRANSITIVE, v3, [v1, v2]) != []

    def test_a_first_version_is_always_compatible(self) -> None:
        for level in CompatibilityLevel:
            assert incompatibilities(level, record(CALL_ID), []) == []


class TestForwardFullNone:
    def test_forward_allows_a_new_required_field(self) -> None:
        assert incompatibilities(FORWARD, record(CALL_ID, REQUIRED_NOTE), [record(CALL_ID)]) == []

    def test_forward_rejects_removing_a_field_old_readers_need(self) -> None:
        problems = incompatibilities(FORWARD, record(CALL_ID), [record(CALL_ID, REQUIRED_NOTE)])
        assert problems and "old schema cannot read new data" in problems[0]

    def test_full_allows_only_optional_changes(self) -> None:
        base = record(CALL_ID)
        assert incompatibilities(FULL, record(CALL_ID, OPTIONAL_NOTE), [base]) == []
        assert incompatibilities(FULL, record(CALL_ID, REQUIRED_NOTE), [base]) != []
        assert incompatibilities(FULL, base, [record(CALL_ID, REQUIRED_NOTE)]) != []

    def test_none_allows_anything(self) -> None:
        assert incompatibilities(NONE, parse_avro('"int"'), [record(CALL_ID)]) == []
