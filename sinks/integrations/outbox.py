"""Outbox rows for the tenants' integrations, one INSERT ... SELECT per batch.

A call event becomes a contract event type (live dial, bridge and hangup; a downloaded hangup
is a `download`); each enabled integration of its tenant that subscribes to that type gets one
row. A deal's submitted brief becomes one `mediaplan_request` for its tenant's mediapush.

Rows are keyed by (enterprise, type, call or deal, event type) and inserted with ON CONFLICT DO
NOTHING, and the idempotency key is a hash of that key: an event written again, in any batch,
enqueues nothing new and never changes the key a CRM has already seen.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import asyncpg
import orjson

MEDIAPUSH = "mediapush"
TELEGRAM = "telegram"
MEDIAPLAN_REQUEST = "mediaplan_request"

# The idempotency key is md5 of "type|enterprise|call or deal|event type" read as a UUID.
# Each tenant's config is expanded once per batch (`configs`), not once per event: the
# document is large (mappings, encrypted secrets) and the batch's events share few tenants.
_CALL_DELIVERIES = """
WITH events AS (
    SELECT e.enterprise_id, e.unique_id, e.event_key, m.event_type,
        -- Seed 002: a message per hangup of a call seen live; a downloaded call is not
        -- announced.
        (e.data_source = 'live' AND e.event_type = 'hangup' AND e.needs_telegram) AS telegram
    FROM call_events e
    CROSS JOIN LATERAL (SELECT CASE
        WHEN e.data_source = 'live' AND e.event_type IN ('dial', 'bridge', 'hangup')
            THEN e.event_type
        WHEN e.data_source = 'downloaded' AND e.event_type = 'hangup' THEN 'download'
    END AS event_type) m
    WHERE e.event_key = ANY($1::text[])
      AND e.needs_integration
      AND m.event_type IS NOT NULL
), configs AS MATERIALIZED (
    SELECT t.enterprise_id, i.type, i.config -> 'events' AS events
    FROM enterprises t
    CROSS JOIN LATERAL jsonb_each(t.integrations_config) AS i(type, config)
    WHERE t.enterprise_id IN (SELECT enterprise_id FROM events)
      AND i.type <> 'mediapush'
      AND (i.config ->> 'enabled')::boolean
)
INSERT INTO integration_outbox (enterprise_id, type, call_id, event_type, event_key,
    idempotency_key)
SELECT e.enterprise_id, c.type, e.unique_id, e.event_type, e.event_key,
    md5(concat_ws('|', c.type, e.enterprise_id, e.unique_id, e.event_type))::uuid::text
FROM events e
JOIN configs c ON c.enterprise_id = e.enterprise_id
WHERE c.events ? e.event_type
  AND (c.type <> 'telegram' OR e.telegram)
-- One order for every writer: concurrent inserts of the same keys wait, never deadlock.
ORDER BY 1, 2, 3, 4
ON CONFLICT DO NOTHING
"""

_MEDIAPLAN_REQUESTS = """
INSERT INTO integration_outbox (enterprise_id, type, deal_id, event_type, idempotency_key,
    payload)
SELECT r.enterprise_id, 'mediapush', r.deal_id, 'mediaplan_request',
    md5(concat_ws('|', 'mediapush', r.enterprise_id, r.deal_id, 'mediaplan_request'))::uuid::text,
    r.payload::jsonb
FROM unnest($1::text[], $2::text[], $3::text[]) AS r(enterprise_id, deal_id, payload)
JOIN enterprises t ON t.enterprise_id = r.enterprise_id
WHERE (t.integrations_config -> 'mediapush' ->> 'enabled')::boolean
ORDER BY 1, 3
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class MediaplanRequest:
    """A deal whose brief was submitted: what MediaPush is asked to plan for (seed 001, 7.6)."""

    enterprise_id: str
    deal_id: str
    master_deal_id: str | None
    correlation_id: str | None
    # The brief event's payload, as the domain sent it (JSON text, or None).
    brief: str | None

    def payload(self) -> dict[str, object]:
        return {
            "deal_id": self.deal_id,
            "master_deal_id": self.master_deal_id,
            "correlation_id": self.correlation_id,
            "brief": _json_or_text(self.brief),
        }


async def enqueue_call_deliveries(conn: asyncpg.Connection, event_keys: Collection[str]) -> int:
    """Enqueues the deliveries the call_events rows with these keys call for, in the caller's
    transaction; returns how many rows were new."""
    if not event_keys:
        return 0
    status = await conn.execute(_CALL_DELIVERIES, sorted(event_keys))
    return _inserted(status)


async def enqueue_mediaplan_request(
    conn: asyncpg.Connection, deals: Sequence[MediaplanRequest]
) -> int:
    """Enqueues one media-plan request per deal whose tenant has mediapush enabled, in the
    caller's transaction; returns how many rows were new."""
    if not deals:
        return 0
    status = await conn.execute(
        _MEDIAPLAN_REQUESTS,
        [d.enterprise_id for d in deals],
        [d.deal_id for d in deals],
        [orjson.dumps(d.payload()).decode() for d in deals],
    )
    return _inserted(status)


def _json_or_text(value: str | None) -> object:
    """A payload that is JSON goes as the document it is; anything else as its text."""
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


def _inserted(status: str) -> int:
    # asyncpg answers "INSERT 0 <rows>".
    return int(status.rsplit(" ", 1)[-1])
