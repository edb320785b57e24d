"""worker_heartbeat: one row per worker instance, rewritten at every beat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import orjson

from streams.runtime.heartbeat import PartitionProgress, beat_status


@dataclass(frozen=True)
class WorkerIdentity:
    worker_id: str
    group_id: str
    host: str
    pid: int
    started_at: datetime


_UPSERT = """
INSERT INTO worker_heartbeat
    (worker_id, group_id, host, pid, started_at, beat_at, interval_sec, status, partitions)
VALUES ($1, $2, $3, $4, $5, now(), $6, $7, $8::jsonb)
ON CONFLICT (worker_id) DO UPDATE SET
    beat_at = now(), interval_sec = EXCLUDED.interval_sec, status = EXCLUDED.status,
    partitions = EXCLUDED.partitions
"""

_FORGET_SILENT = """
DELETE FROM worker_heartbeat
WHERE group_id = $1 AND beat_at < now() - make_interval(secs => $2)
"""


async def record_beat(
    conn: asyncpg.Connection,
    worker: WorkerIdentity,
    partitions: Sequence[PartitionProgress],
    *,
    interval_sec: float,
) -> None:
    await conn.execute(
        _UPSERT,
        worker.worker_id,
        worker.group_id,
        worker.host,
        worker.pid,
        worker.started_at,
        interval_sec,
        beat_status(partitions),
        orjson.dumps([p.to_json() for p in partitions]).decode(),
    )


async def forget_silent(conn: asyncpg.Connection, group_id: str, *, silent_sec: float) -> int:
    """Deletes the rows of instances long gone (earlier runs), so the table stays small."""
    status = await conn.execute(_FORGET_SILENT, group_id, silent_sec)
    return int(status.split()[-1])
