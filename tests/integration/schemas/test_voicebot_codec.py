"""Each voice-bot and knowledge value goes through the wire-format codec and back unchanged,
its schema registered in the real built-in registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from schemas.codec import TopicCodec
from schemas.topics import VOICEBOT_TOPICS, Topic
from streams.tenant_event import TenantEvent
from streams.voicebot.events import (
    AbTest,
    BotCallEvent,
    BotToolCall,
    BotTurn,
    KnowledgeArticle,
    PromptVersion,
)
from tests.support.stack import registry
from tests.unit.schemas.voicebot_records import VOICEBOT_VALID

pytestmark = pytest.mark.integration

DECODED: dict[str, Callable[[str, dict[str, Any]], TenantEvent]] = {
    "voicebot.calls": BotCallEvent.from_record,
    "voicebot.turns": BotTurn.from_record,
    "voicebot.tool_calls": BotToolCall.from_record,
    "voicebot.prompts": PromptVersion.from_record,
    "voicebot.ab_tests": AbTest.from_record,
    "knowledge.articles": KnowledgeArticle.from_record,
}


@pytest.mark.parametrize("topic", VOICEBOT_TOPICS, ids=lambda t: t.name)
async def test_a_value_round_trips_through_the_codec_into_its_dataclass(
    topic: Topic, registry_url: str
) -> None:
    codec = TopicCodec(topic, registry(registry_url))
    await codec.register()
    record = VOICEBOT_VALID[topic.name]
    decoded = codec.decode(codec.encode(record))
    assert decoded == record
    event = DECODED[topic.name]("key", decoded)
    assert (event.enterprise_id, event.occurred_at) == (
        record["enterprise_id"],
        record["occurred_at"],
    )
