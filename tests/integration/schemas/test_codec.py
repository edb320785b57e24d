"""The wire-format codec refuses a value with bytes its writer schema does not account for;
its schema is registered in the real built-in registry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.codec import DecodeError, TopicCodec
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
