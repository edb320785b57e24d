"""Avro values in the Confluent wire format: magic byte 0, 4-byte schema id, Avro binary.

Decoding resolves every writer schema against the reader schema we compiled against, so a
consumer reads every older registered version of its topic.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable
from typing import Any, Protocol

import fastavro
import orjson
from confluent_kafka.schema_registry import Schema

from schemas.topics import Topic

MAGIC = 0
_HEADER = struct.Struct(">bI")


class DecodeError(ValueError):
    """The bytes are not a valid value of the topic; `reason` says why, for error.events."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def frame(schema_id: int, payload: bytes) -> bytes:
    return _HEADER.pack(MAGIC, schema_id) + payload


def schema_id_of(value: bytes | None) -> int:
    if value is None or len(value) < _HEADER.size:
        raise DecodeError("not Confluent wire format: shorter than the 5-byte header")
    magic, schema_id = _HEADER.unpack_from(value)
    if magic != MAGIC:
        raise DecodeError(f"not Confluent wire format: magic byte {magic}, expected {MAGIC}")
    return int(schema_id)


class SchemaRegistry(Protocol):
    """What a codec asks of a registry: confluent-kafka's client, or the built-in store."""

    async def register_schema(self, subject_name: str, schema: Schema) -> int: ...

    async def get_schema(self, schema_id: int) -> Schema: ...


class TopicCodec:
    """Encodes and decodes one topic's values; writer schemas are fetched once per id."""

    def __init__(self, topic: Topic, registry: SchemaRegistry) -> None:
        self.topic = topic
        self.registry = registry
        self.reader = fastavro.parse_schema(topic.schema)
        self._writers: dict[int, Any] = {}
        # By a value's 5-byte header: (writer, reader or None when the writer is ours), for the
        # ids known; an unknown header takes the slow path, which says what is wrong.
        self._by_header: dict[bytes, tuple[Any, Any]] = {}
        self._own_id: int | None = None

    async def register(self) -> int:
        """Registers our schema under the topic's subject (idempotent) and returns its id."""
        if self._own_id is None:
            self._own_id = await self.registry.register_schema(
                self.topic.subject, Schema(self.topic.schema_str, "AVRO")
            )
            self._add_writer(self._own_id, self.reader)
        return self._own_id

    def _add_writer(self, schema_id: int, writer: Any) -> None:
        self._writers[schema_id] = writer
        reader = None if writer is self.reader else self.reader
        self._by_header[_HEADER.pack(MAGIC, schema_id)] = (writer, reader)

    async def fetch_writers(self, values: Iterable[bytes | None]) -> None:
        """Fetches the writer schemas a batch needs; unknown ids simply fail later, per message."""
        known = self._by_header
        for value in values:
            if value and value[: _HEADER.size] in known:
                continue
            try:
                schema_id = schema_id_of(value)
            except DecodeError:
                continue
            if schema_id not in self._writers:
                await self._fetch_writer(schema_id)

    async def _fetch_writer(self, schema_id: int) -> None:
        try:
            registered = await self.registry.get_schema(schema_id)
        except Exception as exc:  # the registry's own error types vary by transport
            if _is_not_found(exc):
                return
            raise
        if registered.schema_type not in (None, "AVRO") or not registered.schema_str:
            return
        self._add_writer(schema_id, fastavro.parse_schema(orjson.loads(registered.schema_str)))

    def decode(self, value: bytes | None) -> dict[str, Any]:
        schemas = self._by_header.get(value[: _HEADER.size]) if value else None
        if schemas is None:
            schema_id = schema_id_of(value)
            raise DecodeError(f"schema id {schema_id} is not registered")
        assert value is not None
        writer, reader = schemas
        body = io.BytesIO(value)
        body.seek(_HEADER.size)
        try:
            record = fastavro.schemaless_reader(body, writer, reader)
        except Exception as exc:  # fastavro raises many types for corrupt bytes
            raise DecodeError(f"cannot decode as {self.topic.subject}: {exc}") from exc
        if not isinstance(record, dict):
            raise DecodeError(f"{self.topic.subject}: value is not a record")
        # Bytes the writer schema does not account for mean the value is not what it claims
        # to be: a wrong schema id, a truncated concatenation, or tampering.
        trailing = len(value) - body.tell()
        if trailing:
            noun = "byte" if trailing == 1 else "bytes"
            raise DecodeError(
                f"cannot decode as {self.topic.subject}: {trailing} trailing {noun}"
                " after the record"
            )
        return record

    def encode(self, record: dict[str, Any]) -> bytes:
        """Encodes with our schema; call `register()` first. Raises ValueError on invalid data."""
        if self._own_id is None:
            raise RuntimeError("register() the schema before encoding")
        buf = io.BytesIO()
        try:
            fastavro.schemaless_writer(buf, self.reader, record, strict_allow_default=True)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError(_explain_invalid(self.reader, record, exc)) from exc
        return frame(self._own_id, buf.getvalue())


def _explain_invalid(schema: Any, record: dict[str, Any], exc: Exception) -> str:
    from fastavro.validation import ValidationError, validate

    try:
        validate(record, schema, raise_errors=True, strict=True)
    except ValidationError as err:
        return "; ".join(str(e) for e in err.errors) or str(err)
    except Exception as err:
        return str(err)
    return str(exc)


def _is_not_found(exc: Exception) -> bool:
    return getattr(exc, "http_status_code", None) == 404
