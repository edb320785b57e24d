"""The calls a figure counts, and how they are split: the calls of the scope's enterprises that
started in its range, by start day (in its zone), scenario or prompt version, or all in one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from api.analytics.sql import Params
from api.analytics.voicebot.scope import BotScope

DAY, SCENARIO, PROMPT_VERSION = "day", "scenario", "prompt_version"


def calls_in_scope(scope: BotScope, params: Params, alias: str = "c") -> str:
    """The condition on `alias` (voicebot.calls) of the scope's calls."""
    return (
        f"{alias}.enterprise_id = ANY({params(list(scope.enterprises))}::text[])"
        f" AND {alias}.started_at >= {params(scope.start)}"
        f" AND {alias}.started_at < {params(scope.end)}"
    )


def group_key(group_by: str | None, scope: BotScope, params: Params, alias: str = "c") -> str:
    """The expression a statement groups the calls by (a constant: one group)."""
    if group_by == DAY:
        return f"({alias}.started_at AT TIME ZONE {params(scope.zone_name)})::date"
    if group_by == SCENARIO:
        return f"{alias}.scenario"
    if group_by == PROMPT_VERSION:
        return f"{alias}.prompt_version"
    return "NULL::text"


def key_json(key: Any) -> str | None:
    """A group's key as the API answers it: a day as YYYY-MM-DD, text as is, null for calls
    without a scenario or prompt version."""
    return key.isoformat() if isinstance(key, date) else key


def ordered(keys: Iterable[Any]) -> list[Any]:
    """Groups in key order; calls without the key last."""
    return sorted(keys, key=lambda k: (k is None, k))
