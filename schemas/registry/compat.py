"""Avro schema identity and compatibility, as the registry decides them. Pure: no I/O.

Identity: two schema texts are the same schema when their canonical forms are equal. The
canonical form is Avro's own full JSON rendering with sorted keys and no whitespace, so layout,
key order and `{"type": "int"}` versus `"int"` do not matter, while everything that changes
how data resolves (defaults, aliases, logical types, docs, custom properties) does.

Compatibility: Apache Avro's `ReaderWriterCompatibilityChecker` decides whether a reader
schema can read what a writer schema wrote; the levels only choose which pairs to ask about.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import avro.schema
import fastavro
import orjson
from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityResult,
    SchemaCompatibilityType,
)

from schemas.registry.errors import InvalidCompatibilityLevel, InvalidSchema

AVRO = "AVRO"


class CompatibilityLevel(StrEnum):
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"
    NONE = "NONE"

    @property
    def transitive(self) -> bool:
        """Checked against every live version, not only the latest."""
        return self.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """The new schema must read data written with the old ones (consumers upgrade first)."""
        return self.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """The old schemas must read data written with the new one (producers upgrade first)."""
        return self.startswith(("FORWARD", "FULL"))


DEFAULT_LEVEL = CompatibilityLevel.BACKWARD


def parse_level(value: object) -> CompatibilityLevel:
    """The level named by `value`, case-insensitively, as Confluent accepts it."""
    if isinstance(value, str):
        try:
            return CompatibilityLevel(value.strip().upper())
        except ValueError:
            pass
    valid = ", ".join(level.value for level in CompatibilityLevel)
    raise InvalidCompatibilityLevel(
        f"Invalid compatibility level {value!r}. Valid values are: {valid}."
    )


@dataclass(frozen=True, eq=False)
class AvroSchema:
    """A valid Avro schema: the text as written, its canonical form, and the parsed schema."""

    text: str
    canonical: str
    parsed: avro.schema.Schema

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical form: equal for, and only for, the same schema."""
        return hashlib.sha256(self.canonical.encode()).hexdigest()


@lru_cache(maxsize=256)
def parse_avro(text: str) -> AvroSchema:
    """Parses and validates `text`; raises `InvalidSchema` saying what is wrong.

    Cached: the registry re-reads the same stored schemas for every compatibility check.
    """
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidSchema(f"Invalid schema: not JSON: {exc}") from None
    try:
        parsed = avro.schema.parse(text)
        # fastavro is what our consumers and confluent-kafka's serializers decode with, and it
        # checks field defaults against their types, which the avro package does not.
        fastavro.parse_schema(document)
        canonical = orjson.dumps(parsed.to_json(), option=orjson.OPT_SORT_KEYS).decode()
    except Exception as exc:  # both parsers raise many types (even RecursionError) on bad input
        raise InvalidSchema(f"Invalid schema: {exc}") from None
    return AvroSchema(text=text, canonical=canonical, parsed=parsed)


def incompatibilities(
    level: CompatibilityLevel, candidate: AvroSchema, previous: Sequence[AvroSchema]
) -> list[str]:
    """Why `candidate` may not follow `previous` (oldest first) under `level`; empty if it may."""
    if level is CompatibilityLevel.NONE or not previous:
        return []
    against = previous if level.transitive else previous[-1:]
    problems: list[str] = []
    for old in reversed(against):
        if level.backward:
            problems += _unreadable(candidate, old, "the new schema cannot read old data")
        if level.forward:
            problems += _unreadable(old, candidate, "an old schema cannot read new data")
    return problems


def _unreadable(reader: AvroSchema, writer: AvroSchema, problem: str) -> list[str]:
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]  # avro 1.12
    result = checker.get_compatibility(reader.parsed, writer.parsed)
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    return [f"{problem}: {_describe(result)}"]


def _describe(result: SchemaCompatibilityResult) -> str:
    kinds = dict.fromkeys(kind.name.upper() for kind in result.incompatibilities)
    where = ", ".join(sorted(result.locations))
    details = "; ".join(sorted(result.messages))
    return f"{', '.join(kinds)} at {where} ({details})"
