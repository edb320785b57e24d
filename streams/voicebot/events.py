"""The decoded values of the `voicebot.*` and `knowledge.articles` topics (contract 4).

Each is a validated value with its dedup key (`event_key`) and the common fields of
`streams.tenant_event.TenantEvent`. JSON-text fields stay text here: validation
(schemas.validate) has already refused the ones that do not parse, and the sinks hand the
text to PostgreSQL's JSONB as it came.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from streams.tenant_event import TenantEvent

SPEAKERS = ("customer", "bot")
AB_TEST_STATUSES = ("running", "stopped", "finished")


def _frozen_costs(value: Mapping[str, float] | None) -> Mapping[str, float]:
    # Sorted so that two decodings of one value compare and hash alike.
    return MappingProxyType({k: float(v) for k, v in sorted((value or {}).items())})


@dataclass(frozen=True, slots=True)
class BotCallEvent(TenantEvent):
    """One version of a voice-bot call: sent at its start and again at its end."""

    call_id: str
    started_at: datetime
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    caller_id: str | None = None
    customer_id: str | None = None
    scenario: str | None = None
    transferred_to_operator: bool = False
    transfer_reason: str | None = None
    order_id: str | None = None
    fitting_booking_id: str | None = None
    prompt_version: str | None = None
    quality_score: float | None = None
    # USD per component (stt, llm, tts, telephony, ...); read-only, so left out of the hash.
    cost_breakdown: Mapping[str, float] = field(
        default_factory=lambda: _frozen_costs(None), hash=False
    )
    total_cost_usd: float | None = None

    @classmethod
    def from_record(cls, event_key: str, record: Mapping[str, Any]) -> BotCallEvent:
        return cls(
            **cls.envelope(event_key, record),
            call_id=record["call_id"],
            started_at=record["started_at"],
            ended_at=record.get("ended_at"),
            duration_seconds=record.get("duration_seconds"),
            caller_id=record.get("caller_id"),
            customer_id=record.get("customer_id"),
            scenario=record.get("scenario"),
            transferred_to_operator=bool(record.get("transferred_to_operator", False)),
            transfer_reason=record.get("transfer_reason"),
            order_id=record.get("order_id"),
            fitting_booking_id=record.get("fitting_booking_id"),
            prompt_version=record.get("prompt_version"),
            quality_score=record.get("quality_score"),
            cost_breakdown=_frozen_costs(record.get("cost_breakdown")),
            total_cost_usd=record.get("total_cost_usd"),
        )

    @property
    def version(self) -> tuple[datetime, str]:
        """Which version wins: the newest occurred_at, ties to the larger event key."""
        return (self.occurred_at, self.event_key)


@dataclass(frozen=True, slots=True)
class BotTurn(TenantEvent):
    """One utterance; `occurred_at` is its created_at."""

    call_id: str
    turn_number: int
    speaker: str
    content: str
    stt_confidence: float | None = None
    stt_latency_ms: int | None = None
    llm_latency_ms: int | None = None
    tts_latency_ms: int | None = None

    @classmethod
    def from_record(cls, event_key: str, record: Mapping[str, Any]) -> BotTurn:
        return cls(
            **cls.envelope(event_key, record),
            call_id=record["call_id"],
            turn_number=record["turn_number"],
            speaker=record["speaker"],
            content=record.get("content") or "",
            stt_confidence=record.get("stt_confidence"),
            stt_latency_ms=record.get("stt_latency_ms"),
            llm_latency_ms=record.get("llm_latency_ms"),
            tts_latency_ms=record.get("tts_latency_ms"),
        )

    @property
    def created_at(self) -> datetime:
        return self.occurred_at


@dataclass(frozen=True, slots=True)
class BotToolCall(TenantEvent):
    """One tool invocation; `occurred_at` is its created_at. Args and result are JSON text."""

    call_id: str
    turn_number: int
    tool_name: str
    tool_args: str
    duration_ms: int
    success: bool
    tool_result: str | None = None

    @classmethod
    def from_record(cls, event_key: str, record: Mapping[str, Any]) -> BotToolCall:
        return cls(
            **cls.envelope(event_key, record),
            call_id=record["call_id"],
            turn_number=record["turn_number"],
            tool_name=record["tool_name"],
            tool_args=record["tool_args"],
            duration_ms=record["duration_ms"],
            success=bool(record["success"]),
            tool_result=record.get("tool_result"),
        )

    @property
    def created_at(self) -> datetime:
        return self.occurred_at


@dataclass(frozen=True, slots=True)
class PromptVersion(TenantEvent):
    """A prompt version, named as `BotCallEvent.prompt_version` refers to it."""

    name: str
    system_prompt: str
    tools_config: str
    is_active: bool
    metadata: str

    @classmethod
    def from_record(cls, event_key: str, record: Mapping[str, Any]) -> PromptVersion:
        return cls(
            **cls.envelope(event_key, record),
            name=record["name"],
            system_prompt=record["system_prompt"],
            tools_config=record["tools_config"],
            is_active=bool(record["is_active"]),
            metadata=record["metadata"],
        )

    @property
    def version(self) -> tuple[datetime, str]:
        return (self.occurred_at, self.event_key)


@dataclass(frozen=True, slots=True)
class AbTest(TenantEvent):
    """A prompt A/B test: prompt versions `variant_a` against `variant_b`."""

    test_name: str
    variant_a: str
    variant_b: str
    status: str
    started_at: datetime
    ended_at: datetime | None = None

    @classmethod
    def from_record(cls, event_key: str, record: Mapping[str, Any]) -> AbTest:
        return cls(
            **cls.envelope(event_key, record),
            test_name=record["test_name"],
            variant_a=record["variant_a"],
            variant_b=record["variant_b"],
            status=record["status"],
            started_at=record["started_at"],
            ended_at=record.get("ended_at"),
        )

    @property
    def version(self) -> tuple[datetime, str]:
        return (self.occurred_at, self.event_key)

    def covers(self, started_at: datetime) -> bool:
        """Whether a call that started then belongs to the test: [started_at, ended_at)."""
        return self.started_at <= started_at and (
            self.ended_at is None or started_at < self.ended_at
        )


@dataclass(frozen=True, slots=True)
class KnowledgeArticle(TenantEvent):
    """A knowledge-base article; `embedding` is the source's own vector, where it sends one."""

    article_id: str
    title: str
    content: str
    active: bool
    deleted: bool = False
    category: str | None = None
    embedding: tuple[float, ...] | None = None
    embedding_model: str | None = None

    @classmethod
    def from_record(cls, event_key: str, record: Mapping[str, Any]) -> KnowledgeArticle:
        embedding = record.get("embedding")
        return cls(
            **cls.envelope(event_key, record),
            article_id=record["article_id"],
            title=record["title"],
            content=record["content"],
            active=bool(record["active"]),
            deleted=bool(record.get("deleted", False)),
            category=record.get("category"),
            embedding=None if embedding is None else tuple(float(x) for x in embedding),
            embedding_model=record.get("embedding_model"),
        )

    @property
    def searchable(self) -> bool:
        """A deleted or inactive article leaves the search."""
        return self.active and not self.deleted

    @property
    def version(self) -> tuple[datetime, str]:
        return (self.occurred_at, self.event_key)
