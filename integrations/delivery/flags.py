"""Seed 002's processing flags on `call_events`, set when a delivery of the event ends:
`telegram_sent` once Telegram accepted it; `integration_sent` once every other integration's
delivery of it is sent or skipped.

Runs in the transaction that finishes the deliveries (integrations/delivery/finishing.py), after
locking their events' rows: two integrations finishing the same event at once are serialised,
so the second sees the first's status and neither leaves the flag unset.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from integrations.adapters.base import Delivery

# In key order: two transactions locking some of the same events never deadlock.
_LOCK_EVENTS = """
SELECT 1 FROM call_events WHERE event_key = ANY($1::text[]) ORDER BY event_key FOR UPDATE
"""

# An event's deliveries are its call's rows of its event type: read by the outbox's unique key
# (enterprise, call, ...), which needs no index of its own on event_key.
_INTEGRATION_SENT = """
UPDATE call_events e SET integration_sent = true
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
    AS f(event_key, enterprise_id, call_id, event_type)
WHERE e.event_key = f.event_key AND e.integration_sent IS NOT TRUE AND NOT EXISTS (
    SELECT 1 FROM integration_outbox o
    WHERE o.enterprise_id = f.enterprise_id AND o.call_id = f.call_id
        AND o.event_type = f.event_type AND o.event_key = f.event_key
        AND o.type <> 'telegram' AND o.status NOT IN ('sent', 'skipped')
)
"""

_TELEGRAM_SENT = """
UPDATE call_events SET telegram_sent = true
WHERE event_key = ANY($1::text[]) AND telegram_sent IS NOT TRUE
"""


async def lock_events(conn: asyncpg.Connection, deliveries: Iterable[Delivery]) -> None:
    """Taken first in the finishing transaction (see the module's docstring)."""
    keys = sorted({d.event_key for d in deliveries if d.event_key is not None})
    if keys:
        await conn.execute(_LOCK_EVENTS, keys)


async def update_flags(conn: asyncpg.Connection, ended: Iterable[tuple[Delivery, str]]) -> None:
    """After the deliveries' own rows got their status (delivery, status), in the same
    transaction."""
    telegram: set[str] = set()
    others: dict[str, Delivery] = {}
    for delivery, status in ended:
        if delivery.event_key is None:
            continue
        if delivery.type == "telegram":
            if status == "sent":
                telegram.add(delivery.event_key)
        elif status in ("sent", "skipped"):
            others[delivery.event_key] = delivery
    if telegram:
        await conn.execute(_TELEGRAM_SENT, sorted(telegram))
    if others:
        events = [others[key] for key in sorted(others)]
        await conn.execute(
            _INTEGRATION_SENT,
            [d.event_key for d in events],
            [d.enterprise_id for d in events],
            [d.call_id for d in events],
            [d.event_type for d in events],
        )
