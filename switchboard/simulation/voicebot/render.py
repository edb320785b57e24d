"""The bot's calls, prompts, A/B test and articles as the records its platform publishes.

Each record is stamped with its time, the tenant and a unique event_id (a uuid5 name under the
run's namespace, numbered in generation order), like every simulated source.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import orjson

from switchboard.simulation import SimEvent
from switchboard.simulation.voicebot import catalogue as cat
from switchboard.simulation.voicebot.dialogue import BotCall
from switchboard.simulation.voicebot.knowledge import ARTICLES

CALLS = "voicebot.calls"
TURNS = "voicebot.turns"
TOOL_CALLS = "voicebot.tool_calls"
PROMPTS = "voicebot.prompts"
AB_TESTS = "voicebot.ab_tests"
ARTICLES_TOPIC = "knowledge.articles"
TOPICS = (PROMPTS, AB_TESTS, ARTICLES_TOPIC, CALLS, TURNS, TOOL_CALLS)

SOURCE_SYSTEM = "voicebot"
CMS = "kb-cms"
# The judge scores a call this long after it ends; the call's final record carries the score.
SCORED_AFTER_MS = 2500


class BotRenderer:
    def __init__(self, enterprise_id: str, start: datetime, namespace: uuid.UUID) -> None:
        self.enterprise_id = enterprise_id
        self._start = start
        self._namespace = namespace
        self._count = 0

    def time(self, at_ms: int) -> datetime:
        return self._start + timedelta(milliseconds=at_ms)

    def name(self, kind: str, *parts: object) -> str:
        """A stable uuid under the run's namespace (call ids, customers, orders)."""
        text = "/".join((self.enterprise_id, "voicebot", kind, *map(str, parts)))
        return str(uuid.uuid5(self._namespace, text))

    def _event(
        self, at_ms: int, topic: str, key: str, fields: dict[str, Any], source: str = SOURCE_SYSTEM
    ) -> SimEvent:
        self._count += 1
        record = {
            "event_id": self.name("event", self._count),
            "source_system": source,
            "occurred_at": self.time(at_ms),
            "enterprise_id": self.enterprise_id,
            **fields,
        }
        return SimEvent(at_ms / 1000, topic, key, record)

    # -- set-up ------------------------------------------------------------------------------

    def prompts(self, at_ms: int) -> list[SimEvent]:
        return [
            self._event(
                at_ms,
                PROMPTS,
                prompt.name,
                {
                    "name": prompt.name,
                    "system_prompt": prompt.text,
                    "tools_config": cat.tools_config(),
                    "is_active": True,
                    "metadata": cat.prompt_metadata(prompt),
                },
            )
            for prompt in cat.PROMPTS
        ]

    def ab_test(self, at_ms: int, status: str, started_ms: int, ended_ms: int | None) -> SimEvent:
        variants = {p.variant: p.name for p in cat.PROMPTS if p.variant}
        return self._event(
            at_ms,
            AB_TESTS,
            cat.AB_TEST,
            {
                "test_name": cat.AB_TEST,
                "variant_a": variants["A"],
                "variant_b": variants["B"],
                "status": status,
                "started_at": self.time(started_ms),
                "ended_at": None if ended_ms is None else self.time(ended_ms),
            },
        )

    def articles(self, at_ms: int) -> list[SimEvent]:
        return [
            self._event(
                at_ms,
                ARTICLES_TOPIC,
                article.article_id,
                {
                    "article_id": article.article_id,
                    "title": article.title,
                    "category": article.category,
                    "content": article.content,
                    "active": True,
                    "deleted": False,
                    # The CMS sends text; the worker embeds it.
                    "embedding": None,
                    "embedding_model": None,
                },
                source=CMS,
            )
            for article in ARTICLES
        ]

    # -- one call ----------------------------------------------------------------------------

    def call(self, call: BotCall) -> list[SimEvent]:
        """The call's start record, its turns and tool calls, and its final record."""
        events = [self._event(call.started_ms, CALLS, call.call_id, self._call_fields(call))]
        for turn in call.turns:
            fields = {
                "call_id": call.call_id,
                "turn_number": turn.number,
                "speaker": turn.speaker,
                "content": turn.content,
                "stt_confidence": turn.stt_confidence,
                "stt_latency_ms": turn.stt_latency_ms,
                "llm_latency_ms": turn.llm_latency_ms,
                "tts_latency_ms": turn.tts_latency_ms,
            }
            events.append(self._event(turn.at_ms, TURNS, call.call_id, fields))
        for use in call.tools:
            fields = {
                "call_id": call.call_id,
                "turn_number": use.turn_number,
                "tool_name": use.tool_name,
                "tool_args": orjson.dumps(use.args).decode(),
                "tool_result": None if use.result is None else orjson.dumps(use.result).decode(),
                "duration_ms": use.duration_ms,
                "success": use.success,
            }
            events.append(self._event(use.at_ms, TOOL_CALLS, call.call_id, fields))
        final = self._call_fields(call, ended=True)
        events.append(self._event(call.ended_ms + SCORED_AFTER_MS, CALLS, call.call_id, final))
        return events

    def _call_fields(self, call: BotCall, *, ended: bool = False) -> dict[str, Any]:
        """What the platform knows of the call at its start (who rings, which prompt answers),
        or once it has ended and been scored."""
        fields: dict[str, Any] = {
            "call_id": call.call_id,
            "started_at": self.time(call.started_ms),
            "ended_at": None,
            "duration_seconds": None,
            "caller_id": call.caller_id,
            "customer_id": call.customer_id,
            "scenario": None,
            "transferred_to_operator": False,
            "transfer_reason": None,
            "order_id": None,
            "fitting_booking_id": None,
            "prompt_version": call.prompt.name,
            "quality_score": None,
            "cost_breakdown": {},
            "total_cost_usd": None,
        }
        if ended:
            fields |= {
                "ended_at": self.time(call.ended_ms),
                "duration_seconds": call.duration_seconds,
                "scenario": call.scenario.name,
                "transferred_to_operator": call.transferred,
                "transfer_reason": call.transfer_reason,
                "order_id": call.order_id,
                "fitting_booking_id": call.fitting_booking_id,
                "quality_score": call.quality,
                "cost_breakdown": dict(call.costs),
                "total_cost_usd": call.total_cost,
            }
        return fields
