"""The worker group's latest heartbeats (worker_heartbeat), as /health and the sampler read
them: one indexed read of the newest rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from streams.runtime.heartbeat import BeatSeen

# Rows of instances silent for longer than this are not even read: gone, not just down.
_BEATS = """
SELECT extract(epoch FROM now() - beat_at)::float8 AS age_sec, interval_sec, status, partitions
FROM worker_heartbeat
WHERE group_id = $1 AND beat_at > now() - interval '1 day'
ORDER BY beat_at DESC
LIMIT 64
"""


@dataclass(frozen=True)
class Beat:
    seen: BeatSeen
    # What the instance said of each of its partitions (streams.runtime.heartbeat).
    partitions: list[dict[str, Any]]


async def latest_beats(db: asyncpg.Pool | asyncpg.Connection, group_id: str) -> list[Beat]:
    """Newest first."""
    rows = await db.fetch(_BEATS, group_id)
    return [
        Beat(
            BeatSeen(row["age_sec"], row["interval_sec"], row["status"]),
            orjson.loads(row["partitions"]),
        )
        for row in rows
    ]
