"""The wire-format codec refuses a value with bytes its writer schema does not account for,
or a header that is not the wire format, and decodes with a writer schema fetched by id; its
schemas are registered in the real built-in registry."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from schemas.codec import DecodeError, TopicCodec, frame
from schemas.topics import TELEPHONY_AGENTS
from tests.support.stack import registry

pytestmark = pytest.mark.integration

RECORD = {
    "event_id": "a1",
    "source_system": "softphone",
    "occurred_at": datetime(2026, 12, 6, 12, 0, tzinfo=UTC),
    "enterprise_id": "0367",
    "agent_id": "151",
    "event_type": "login",
}


async def codec(registry_url: str) -> TopicCodec:
    topic_codec = TopicCodec(TELEPHONY_AGENTS, registry(registry_url))
    await topic_codec.register()
    return topic_codec


async def test_a_value_decodes_to_its_record(registry_url: str) -> None:
    agents = await codec(registry_url)
    decoded = agents.decode(agents.encode(RECORD))
    assert {k: decoded[k] for k in RECORD} == RECORD


@pytest.mark.parametrize(
    ("extra", "words"), [(b"\x00", "1 trailing byte"), (b"junk", "4 trailing bytes")]
)
async def test_trailing_bytes_after_the_record_are_refused_with_their_count(
    extra: bytes, words: str, registry_url: str
) -> None:
    agents = await codec(registry_url)
    with pytest.raises(DecodeError) as refused:
        agents.decode(agents.encode(RECORD) + extra)
    assert refused.value.reason == (
        f"cannot decode as telephony.agents-value: {words} after the record"
    )


def refusal(codec: TopicCodec, value: bytes | None) -> str:
    with pytest.raises(DecodeError) as refused:
        codec.decode(value)
    return refused.value.reason


async def test_a_header_that_is_not_the_wire_format_is_refused_for_what_it_is(
    registry_url: str,
) -> None:
    agents = TopicCodec(TELEPHONY_AGENTS, registry(registry_url))
    own = await agents.register()
    body = agents.encode(RECORD)[5:]
    short = "not Confluent wire format: shorter than the 5-byte header"
    assert refusal(agents, None) == short
    assert refusal(agents, b"") == short
    assert refusal(agents, b"\x00\x00\x00") == short
    assert refusal(agents, struct.pack(">bI", 1, own) + body) == (
        "not Confluent wire format: magic byte 1, expected 0"
    )
    assert refusal(agents, frame(own + 1000, body)) == f"schema id {own + 1000} is not registered"


async def test_a_writer_schema_fetched_by_id_decodes_its_values(registry_url: str) -> None:
    publisher = TopicCodec(TELEPHONY_AGENTS, registry(registry_url))
    await publisher.register()
    value = publisher.encode(RECORD)
    reader = TopicCodec(TELEPHONY_AGENTS, registry(registry_url))
    assert refusal(reader, value).endswith("is not registered"), "nothing fetched yet"

    await reader.fetch_writers([value, None, b"\x01junk"])

    decoded = reader.decode(value)
    assert {k: decoded[k] for k in RECORD} == RECORD
    assert refusal(reader, value + b"\x00") == (
        "cannot decode as telephony.agents-value: 1 trailing byte after the record"
    )
