"""Queue sessions as the fold leaves them, built from the few facts a KPI test varies."""

from __future__ import annotations

from datetime import datetime, timedelta

from streams.contact_centre.queue_sessions import Outcome, QueueSession


def queue_session(
    call: str,
    enqueued_at: datetime,
    outcome: Outcome | None,
    wait: float | None = None,
    *,
    enterprise: str = "0367",
    queue: str = "support",
    talk: float | None = None,
    agent: str | None = None,
    channel: str = "voice",
) -> QueueSession:
    """A session of `call` that left `wait` seconds after `enqueued_at` with `outcome` (None:
    still waiting, or its exit was lost)."""
    exited_at = None if outcome is None or wait is None else enqueued_at + timedelta(seconds=wait)
    return QueueSession(
        enterprise_id=enterprise,
        call_id=call,
        queue_id=queue,
        channel=channel,
        enqueued_at=enqueued_at,
        enqueue_inferred=False,
        outcome=outcome,
        exited_at=exited_at,
        wait_sec=wait if outcome else None,
        completed_by=f"{call}:exit" if outcome else None,
        completed_at=exited_at,
        agent_id=agent,
        talk_sec=talk,
        exit_reason="exit_timeout" if outcome is Outcome.FLOW_OUT else None,
        ring_no_answer=0,
        event_keys=(),
    )
