"""The lag sampler: every few seconds it reads the worker group's committed and end offsets,
the masterdeal.* end offsets, the integration outbox and the worker's heartbeat, and keeps the
latest findings (`latest`) for /api/lag, /health, /metrics and `switchboard lag`.

librdkafka blocks, so broker reads run on a thread of the sampler's own, one at a time, and the
event loop never waits on them; stopping the sampler never waits for a read in flight either.
A failed read keeps the previous findings, marked stale.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

import asyncpg
import structlog

from ops.lag.beats import latest_beats
from ops.lag.outbox import OutboxBacklog, outbox_backlog
from ops.lag.report import LagReport, Publication, PublishedTopic
from ops.lag.tracker import EndTracker, GroupTracker, Partition, PartitionVerdict
from schemas.topics import DOMAIN_TOPICS, INPUT_TOPIC_NAMES, MASTERDEAL_TOPICS
from sinks.freshness import newest_processed_ages
from streams.runtime.heartbeat import is_fresh
from switchboard.kafka.lag import OffsetReader, Offsets

log = structlog.get_logger(__name__)

T = TypeVar("T")

# A database read slower than this is skipped: the sample keeps the previous figures.
DATABASE_TIMEOUT_SEC = 2.0
PUBLICATION_TOPIC_NAMES = tuple(t.name for t in MASTERDEAL_TOPICS)
_DOMAIN_TOPIC_NAMES = frozenset(t.name for t in DOMAIN_TOPICS)


class LagSampler:
    def __init__(
        self,
        bootstrap: str,
        group: str,
        *,
        window_sec: float,
        interval_sec: float,
        db: asyncpg.Pool | asyncpg.Connection | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.window_sec = window_sec
        self.interval_sec = interval_sec
        self.db = db
        self.latest: LagReport | None = None
        self._tracker = GroupTracker(group, window_sec)
        self._published = EndTracker()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lag-sampler")
        self._reader: OffsetReader | None = None
        self._outbox: OutboxBacklog | None = None
        self._newest: dict[str, float | None] = {}
        self._failing = False
        # Set once the first read has ended, read or failed: what a reader waits for at start.
        self.first_attempt = asyncio.Event()

    async def run(self) -> None:
        """Samples every `interval_sec` (start to start) until cancelled."""
        while True:
            started = time.monotonic()
            await self.refresh()
            self.first_attempt.set()
            await asyncio.sleep(max(0.0, self.interval_sec - (time.monotonic() - started)))

    async def refresh(self) -> LagReport | None:
        """One sample; if it fails, the previous findings marked stale (None before any)."""
        try:
            return await self.sample()
        except Exception as exc:  # librdkafka reports an unreachable broker in many types
            self._sample_failed(exc)
            return self.latest

    async def sample(self) -> LagReport:
        """One sample, kept as `latest`; raises when the broker cannot be read."""
        loop = asyncio.get_running_loop()
        offsets = await loop.run_in_executor(self._executor, self._read)
        worker_up = await self._worker_up()
        await self._read_database()
        report = self._judge(offsets, worker_up)
        self.latest = report
        if self._failing:
            self._failing = False
            log.info("lag_sampling_recovered", group=self.group)
        return report

    def close(self) -> None:
        # A read in flight finishes on its own thread; nobody waits for it.
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _read(self) -> Offsets:
        if self._reader is None:
            self._reader = OffsetReader(self.bootstrap)
        return self._reader.read(self.group, INPUT_TOPIC_NAMES, PUBLICATION_TOPIC_NAMES)

    def _judge(self, offsets: Offsets, worker_up: bool | None) -> LagReport:
        now = offsets.ends_at
        consumed = {p: e for p, e in offsets.ends.items() if p in offsets.committed}
        verdicts = self._tracker.observe(
            now, offsets.committed, consumed, worker_beating=worker_up is not False
        )
        published = {p: e for p, e in offsets.ends.items() if p not in offsets.committed}
        self._published.observe(now, published, offsets.other_partitions)
        return LagReport(
            group=self.group,
            window_sec=self.window_sec,
            sampled_at=now,
            partitions=tuple(verdicts),
            publication=self._publication(published, verdicts),
            outbox=self._outbox,
            newest_processed_sec=dict(self._newest),
            worker_up=worker_up,
        )

    def _publication(
        self, ends: dict[Partition, int], verdicts: list[PartitionVerdict]
    ) -> Publication:
        topics = tuple(
            PublishedTopic(
                name,
                sum(end for (topic, _), end in ends.items() if topic == name),
                self._published.last_growth(p for p in ends if p[0] == name),
            )
            for name in PUBLICATION_TOPIC_NAMES
        )
        domain = [v for v in verdicts if v.topic in _DOMAIN_TOPIC_NAMES]
        return Publication(
            topics,
            sum(v.lag for v in domain),
            max((v.lag_sec for v in domain), default=0.0),
        )

    async def _worker_up(self) -> bool | None:
        if self.db is None:
            return None
        beats = await self._bounded(latest_beats(self.db, self.group))
        return None if beats is None else any(is_fresh(b.seen) for b in beats)

    async def _read_database(self) -> None:
        if self.db is None:
            return
        outbox = await self._bounded(outbox_backlog(self.db))
        if outbox is not None:
            self._outbox = outbox
        newest = await self._bounded(newest_processed_ages(self.db))
        if newest is not None:
            self._newest = newest

    async def _bounded(self, read: Awaitable[T]) -> T | None:
        """`read`'s answer; None when the database does not answer in time."""
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_SEC):
                return await read
        except Exception as exc:
            log.warning("lag_sample_database_unavailable", error=f"{type(exc).__name__}: {exc}")
            return None

    def _sample_failed(self, exc: Exception) -> None:
        if self.latest is not None:
            self.latest = replace(self.latest, stale=True)
        if not self._failing:
            self._failing = True
            log.warning(
                "lag_sampling_failed", group=self.group, error=f"{type(exc).__name__}: {exc}"
            )
