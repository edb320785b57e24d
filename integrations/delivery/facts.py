"""The call a delivery announces, as PostgreSQL holds it when the delivery is sent: `calls`, the
announced `call_events` row, and `call_participants` in ring order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from integrations.adapters.base import CallFacts, Delivery

# The participants come with the call, in one round trip: extensions in ring order, and the
# first answer.
_PARTICIPANTS = """
    (SELECT coalesce(array_agg(p.extension
            ORDER BY p.ring_order NULLS LAST, p.dial_start NULLS LAST, p.id), '{}')
        FROM call_participants p WHERE p.call_id = c.id) AS extensions,
    (SELECT min(p.answer_time) FROM call_participants p WHERE p.call_id = c.id) AS answer_time
"""

_CALL = f"""
SELECT c.id, c.unique_id, c.enterprise_id, c.call_type, c.phone_number, c.trunk,
    c.main_extension, c.call_status, c.start_time, c.end_time, c.duration, c.asterisk_host,
    e.extension AS event_extension, e.event_timestamp, e.data_source, {_PARTICIPANTS}
FROM call_events e JOIN calls c ON c.id = e.call_id
WHERE e.event_key = $1 AND c.enterprise_id = $2
"""

# The facts of many events at once (a claim's), each row tagged with its place in the arrays.
_CALLS_BY_KEYS = f"""
SELECT k.n, c.id, c.unique_id, c.enterprise_id, c.call_type, c.phone_number, c.trunk,
    c.main_extension, c.call_status, c.start_time, c.end_time, c.duration, c.asterisk_host,
    e.extension AS event_extension, e.event_timestamp, e.data_source, {_PARTICIPANTS}
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(event_key, enterprise_id, n)
JOIN call_events e ON e.event_key = k.event_key
JOIN calls c ON c.id = e.call_id AND c.enterprise_id = k.enterprise_id
"""

# A row enqueued without its event's key: the call's latest event of that type.
_CALL_BY_ID = f"""
SELECT c.id, c.unique_id, c.enterprise_id, c.call_type, c.phone_number, c.trunk,
    c.main_extension, c.call_status, c.start_time, c.end_time, c.duration, c.asterisk_host,
    e.extension AS event_extension, e.event_timestamp, e.data_source, {_PARTICIPANTS}
FROM calls c JOIN call_events e ON e.call_id = c.id
WHERE c.unique_id = $1 AND c.enterprise_id = $2 AND e.event_type = $3
ORDER BY e.event_sequence DESC NULLS LAST, e.id DESC
LIMIT 1
"""


async def load_call_facts(conn: asyncpg.Connection, delivery: Delivery) -> CallFacts | None:
    """The facts of the delivery's call event; None when the call or the event is no longer
    stored (retention thinned it, or live events superseded a download)."""
    if delivery.event_key is not None:
        row = await conn.fetchrow(_CALL, delivery.event_key, delivery.enterprise_id)
    elif delivery.call_id is not None:
        # A download announces the downloaded hangup.
        event_type = "hangup" if delivery.event_type == "download" else delivery.event_type
        row = await conn.fetchrow(_CALL_BY_ID, delivery.call_id, delivery.enterprise_id, event_type)
    else:
        return None
    return None if row is None else _facts(row)


async def load_many_call_facts(
    conn: asyncpg.Connection, deliveries: Sequence[Delivery]
) -> dict[int, CallFacts | None]:
    """`load_call_facts` of each delivery that has its event's key, by outbox id, in one
    query: a claim's facts in one round trip."""
    keyed = [d for d in deliveries if d.event_key is not None]
    if not keyed:
        return {}
    rows = await conn.fetch(
        _CALLS_BY_KEYS, [d.event_key for d in keyed], [d.enterprise_id for d in keyed]
    )
    found = {row["n"]: _facts(row) for row in rows}
    return {d.id: found.get(n) for n, d in enumerate(keyed, start=1)}


def _facts(row: Mapping[str, Any]) -> CallFacts:
    answer_time: datetime | None = row["answer_time"]
    start: datetime | None = row["start_time"]
    waiting = None
    if answer_time is not None and start is not None:
        waiting = max(0, round((answer_time - start).total_seconds()))
    return CallFacts(
        call_id=row["unique_id"],
        enterprise_id=row["enterprise_id"],
        call_type=row["call_type"],
        data_source=row["data_source"],
        event_extension=row["event_extension"],
        event_at=row["event_timestamp"],
        phone_number=row["phone_number"],
        trunk=row["trunk"],
        extensions=tuple(row["extensions"]),
        main_extension=row["main_extension"],
        call_status=row["call_status"],
        start_time=start,
        answer_time=answer_time,
        end_time=row["end_time"],
        duration_sec=row["duration"],
        waiting_sec=waiting,
        asterisk_host=row["asterisk_host"],
    )
