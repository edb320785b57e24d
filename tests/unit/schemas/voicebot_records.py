"""A valid value of each voice-bot and knowledge topic, dated 2026-12-06 12:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
BOT = {"event_id": "e1", "source_system": "voicebot", "occurred_at": NOW, "enterprise_id": "0367"}
CALL_ID = "6f1c2a9e-0b7d-4e53-9c1a-3d2f1e0a9b8c"

VOICEBOT_VALID: dict[str, dict[str, Any]] = {
    "voicebot.calls": {
        **BOT,
        "call_id": CALL_ID,
        "started_at": NOW - timedelta(minutes=3),
        "ended_at": NOW,
        "duration_seconds": 180,
        "caller_id": "+375291234567",
        "customer_id": None,
        "scenario": "tire_search",
        "transferred_to_operator": True,
        "transfer_reason": "complex_question",
        "order_id": None,
        "fitting_booking_id": None,
        "prompt_version": "v2-b",
        "quality_score": 0.8,
        "cost_breakdown": {"stt": 0.01, "llm": 0.03, "tts": 0.02, "telephony": 0.0},
        "total_cost_usd": 0.06,
    },
    "voicebot.turns": {
        **BOT,
        "call_id": CALL_ID,
        "turn_number": 0,
        "speaker": "customer",
        "content": "Нужны зимние шины 205/55 R16",
        "stt_confidence": 0.93,
        "stt_latency_ms": 220,
        "llm_latency_ms": None,
        "tts_latency_ms": None,
    },
    "voicebot.tool_calls": {
        **BOT,
        "call_id": CALL_ID,
        "turn_number": 1,
        "tool_name": "search_tires",
        "tool_args": '{"width": 205, "profile": 55, "diameter": 16, "season": "winter"}',
        "tool_result": '{"found": 12}',
        "duration_ms": 340,
        "success": True,
    },
    "voicebot.prompts": {
        **BOT,
        "name": "v2-b",
        "system_prompt": "Ты — консультант шинного магазина.",
        "tools_config": '[{"name": "search_tires"}]',
        "is_active": True,
        "metadata": "{}",
    },
    "voicebot.ab_tests": {
        **BOT,
        "test_name": "greeting-2026-12",
        "variant_a": "v2-a",
        "variant_b": "v2-b",
        "status": "running",
        "started_at": NOW - timedelta(days=7),
        "ended_at": None,
    },
    "knowledge.articles": {
        **BOT,
        "article_id": "kb-17",
        "title": "Сезонное хранение шин",
        "category": "storage",
        "content": "Храним шины от апреля до ноября; стоимость зависит от диаметра.",
        "active": True,
        "deleted": False,
        "embedding": None,
        "embedding_model": None,
    },
}
