"""After-call work: what an agent's wrap-up adds to average handle time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class WrapUp:
    """After-call work of an agent (telephony.agents wrapup_start -> wrapup_end), for AHT."""

    enterprise_id: str
    agent_id: str
    started_at: datetime
    duration_sec: float
    queue_id: str | None = None
    channel: str | None = None
