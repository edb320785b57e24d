"""Every topic of the contract, with the field its key is taken from and its Avro schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Topic:
    name: str
    # The key is the first of these fields that is set (crm.outcomes has three candidates).
    key_fields: tuple[str, ...]
    is_input: bool = True
    compacted: bool = False

    @property
    def subject(self) -> str:
        """TopicNameStrategy, as Confluent's serializers use by default."""
        return f"{self.name}-value"

    @cached_property
    def schema_str(self) -> str:
        return resources.files("schemas").joinpath("avro", f"{self.name}.avsc").read_text()

    @cached_property
    def schema(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.schema_str)
        return parsed

    def key_of(self, record: dict[str, Any]) -> str | None:
        if self.name == "reference.dimensions":
            return f"{record['kind']}:{record['id']}"
        for name in self.key_fields:
            value = record.get(name)
            if value:
                return str(value)
        return None


TELEPHONY_CALLS = Topic("telephony.calls", ("call_id",))
TELEPHONY_QUEUE = Topic("telephony.queue", ("call_id",))
TELEPHONY_AGENTS = Topic("telephony.agents", ("agent_id",))
DIGITAL_MESSAGES = Topic("digital.messages", ("conversation_id",))
CRM_OUTCOMES = Topic("crm.outcomes", ("call_id", "conversation_id", "external_id"))
REFERENCE_DIMENSIONS = Topic("reference.dimensions", ("kind", "id"), compacted=True)
# Not in the contract's input list: what POST /api/ingest/interactions publishes.
INGEST_INTERACTIONS = Topic("ingest.interactions", ("external_id",))
# The voice bot (contract 4 and 9, seed 004).
VOICEBOT_CALLS = Topic("voicebot.calls", ("call_id",))
VOICEBOT_TURNS = Topic("voicebot.turns", ("call_id",))
VOICEBOT_TOOL_CALLS = Topic("voicebot.tool_calls", ("call_id",))
VOICEBOT_PROMPTS = Topic("voicebot.prompts", ("name",))
VOICEBOT_AB_TESTS = Topic("voicebot.ab_tests", ("test_name",))
KNOWLEDGE_ARTICLES = Topic("knowledge.articles", ("article_id",))
VOICEBOT_TOPICS = (
    VOICEBOT_CALLS,
    VOICEBOT_TURNS,
    VOICEBOT_TOOL_CALLS,
    VOICEBOT_PROMPTS,
    VOICEBOT_AB_TESTS,
    KNOWLEDGE_ARTICLES,
)
DOMAIN_TOPICS = tuple(
    Topic(name, ("deal_id",))
    for name in (
        "crm.events",
        "mediapush.events",
        "tasktracker.events",
        "docflow.events",
        "legal.events",
        "dcm.events",
    )
)
MASTERDEAL_TOPICS = tuple(
    Topic(name, ("master_deal_id",), is_input=False)
    for name in (
        "masterdeal.created",
        "masterdeal.stage.changed",
        "masterdeal.sla.breached",
        "masterdeal.closed",
    )
)
ERROR_EVENTS = Topic("error.events", ("key",), is_input=False)

INPUT_TOPICS: tuple[Topic, ...] = (
    TELEPHONY_CALLS,
    TELEPHONY_QUEUE,
    TELEPHONY_AGENTS,
    DIGITAL_MESSAGES,
    CRM_OUTCOMES,
    REFERENCE_DIMENSIONS,
    INGEST_INTERACTIONS,
    *DOMAIN_TOPICS,
    *VOICEBOT_TOPICS,
)
# What the worker consumes, so what its consumer lag is measured on.
INPUT_TOPIC_NAMES: tuple[str, ...] = tuple(t.name for t in INPUT_TOPICS)
OUTPUT_TOPICS: tuple[Topic, ...] = (*MASTERDEAL_TOPICS, ERROR_EVENTS)
ALL_TOPICS: tuple[Topic, ...] = INPUT_TOPICS + OUTPUT_TOPICS
BY_NAME: dict[str, Topic] = {t.name: t for t in ALL_TOPICS}


def topic(name: str) -> Topic:
    try:
        return BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(BY_NAME))
        raise KeyError(f"unknown topic {name!r}; known topics: {known}") from None
