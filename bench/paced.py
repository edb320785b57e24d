"""Paced event-to-row latency: the traffic published at a fixed rate while a worker keeps up,
each event (up to TIMED_EVENTS, evenly spread) timed from its publication to its row being
visible in PostgreSQL.

The publish time is the broker record's CreateTime, stamped by the producer as it sends
(bench.produce, the first copy of a duplicated event). The row's time is when a reader first
saw it: the watcher asks PostgreSQL every POLL_SEC for the rows of the events sent and not yet
seen, by their natural key, and stamps those it finds with the start of that query (the row
was committed before the query's snapshot). So the delay is what a user polling the database
would see, over-stated by at most one poll interval. A warm-up (the first events, published at
once and waited for) keeps the worker's startup and group join out of the figures.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from bench.produce import Encoded, produce
from bench.stack import Stack
from streams.contact_centre.percentiles import percentile_nearest_rank
from switchboard.runtime.processes import ChildProcess

POLL_SEC = 0.05
# The rate when the run measured none (too few events to time the worker).
FALLBACK_RATE = 500.0
# A worker's rate timed over less than this is no rate (a few batches landing at once).
MIN_TIMED_SEC = 1.0
# The share of a worker's measured rate it is paced at (issue 11: half the maximum rate).
PACED_SHARE = 0.5
WARM_UP_EVENTS = 200
# At most this many events are timed, evenly spread over the paced ones: plenty for a p99, and
# the watcher's queries stay small beside the worker on a shared machine.
TIMED_EVENTS = 5000
# The worker is declared stuck when no row shows for this long while some are awaited.
STALL_SEC = 120.0

# A message and the table whose `event_key` column shows its row; the message's tag is that key.
Tracked = tuple[Encoded, str]


@dataclass(frozen=True)
class Latency:
    """Publication to a visible row, over the distinct events published paced."""

    rate: float  # events/s published at
    events: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    poll_ms: float  # the watcher's interval: the figures' resolution
    # The p50 of the last tenth published: far above p50 when the worker fell behind the pace.
    last_tenth_p50_ms: float = 0.0

    def text(self) -> str:
        return (
            f"paced at {self.rate:,.0f} ev/s: p50 {self.p50_ms:,.0f} ms, p99 {self.p99_ms:,.0f} ms,"
            f" max {self.max_ms:,.0f} ms, last tenth published p50 {self.last_tenth_p50_ms:,.0f} ms"
            f" ({self.events} events, rows polled every {self.poll_ms:.0f} ms)"
        )


def paced_rate(rate: float | None, events: int, seconds: float) -> float:
    """`rate` when given, else PACED_SHARE of the worker's rate measured in the same run
    (`events` in `seconds`); FALLBACK_RATE when that window is too short to be a rate, as when
    a few batches land at once."""
    if rate:
        return rate
    return events / seconds * PACED_SHARE if seconds >= MIN_TIMED_SEC else FALLBACK_RATE


def paced_events(events: int, rate: float, seconds: float) -> int:
    """The events to pace: `seconds` of publishing at `rate`, but enough for a warm-up and a few
    hundred timed, and no more than `events`."""
    return min(events, max(round(rate * seconds), WARM_UP_EVENTS * 3))


def measure_latency(
    stack: Stack,
    database_url: str,
    worker: ChildProcess,
    tracked: Sequence[Tracked],
    rate: float,
) -> Latency:
    """Warms `worker` up on the first WARM_UP_EVENTS, then publishes the rest at `rate` and
    times each of their distinct events to its row."""
    warm_up, rest = tracked[:WARM_UP_EVENTS], tracked[WARM_UP_EVENTS:]
    warm_keys = {message[3] for message, _ in warm_up}
    produce(stack.bootstrap, [message for message, _ in warm_up])
    with psycopg.connect(database_url, autocommit=True) as conn:
        _Watcher(conn, worker).until_seen(warm_up, lambda: True)
        sent = [0]
        published: dict[str, int] = {}

        def sending() -> Iterator[Encoded]:
            for index, (message, _) in enumerate(rest):
                sent[0] = index + 1
                yield message

        publisher = threading.Thread(
            target=lambda: published.update(produce(stack.bootstrap, sending(), rate=rate)),
            daemon=True,  # should the worker fail, the run ends without waiting for it
        )
        publisher.start()
        timed = timed_sample([(m, table) for m, table in rest if m[3] not in warm_keys])
        seen = _Watcher(conn, worker).until_seen(
            timed, lambda: not publisher.is_alive(), sent=lambda: sent[0], order=rest
        )
        publisher.join()
    in_publish_order = sorted(seen, key=published.__getitem__)
    return _latency(rate, [seen[key] - published[key] for key in in_publish_order])


def timed_sample(tracked: Sequence[Tracked]) -> list[Tracked]:
    """Every distinct event once, at its first copy; one in n of them when there are more than
    TIMED_EVENTS, chosen by position alone so the sample cannot lean on their delays."""
    firsts = {message[3]: (message, table) for message, table in tracked}  # copies are equal
    distinct = list(firsts.values())
    step = max(1, -(-len(distinct) // TIMED_EVENTS))
    return distinct[::step]


class _Watcher:
    """Polls for the rows of awaited events and stamps each when first seen (ms, wall clock,
    the clock the broker's CreateTime is on)."""

    def __init__(self, conn: psycopg.Connection[Any], worker: ChildProcess) -> None:
        self.conn = conn
        self.worker = worker

    def until_seen(
        self,
        awaited: Sequence[Tracked],
        publishing_done: Callable[[], bool],
        *,
        sent: Callable[[], int] | None = None,
        order: Sequence[Tracked] = (),
    ) -> dict[str, float]:
        """Polls until every event of `awaited` is seen and `publishing_done()`. With `sent`
        (how many of `order` have gone out), only those sent are looked for."""
        wanted = {message[3] for message, _ in awaited}
        pending: dict[str, set[str]] = defaultdict(set)
        source = order if sent is not None else awaited
        queued = 0
        seen: dict[str, float] = {}
        found_at = time.monotonic()
        while True:
            done = publishing_done()
            upto = sent() if sent is not None else len(source)
            for message, table in source[queued:upto]:
                if message[3] in wanted and message[3] not in seen:
                    pending[table].add(message[3])
            queued = upto
            for table, keys in pending.items():
                if not keys:
                    continue
                at = time.time() * 1000
                rows = self.conn.execute(
                    f"SELECT event_key FROM {table} WHERE event_key = ANY(%s)", (list(keys),)
                ).fetchall()
                for (key,) in rows:
                    seen[key] = at
                    keys.discard(key)
                if rows:
                    found_at = time.monotonic()
            if done and queued == len(source) and not any(pending.values()):
                return seen
            if self.worker.exited():
                raise RuntimeError(f"the worker exited:\n{self.worker.log_tail()}")
            if any(pending.values()) and time.monotonic() - found_at > STALL_SEC:
                waiting = sum(len(keys) for keys in pending.values())
                raise RuntimeError(
                    f"no row for {waiting} events in {STALL_SEC} s:\n{self.worker.log_tail()}"
                )
            time.sleep(POLL_SEC)


def _latency(rate: float, delays: list[float]) -> Latency:
    """The figures of `delays`, given in the order their events were published."""
    last_tenth = delays[len(delays) - len(delays) // 10 :] if len(delays) >= 10 else delays
    ordered = sorted(delays)
    p50, p99 = (percentile_nearest_rank(ordered, pct) or 0.0 for pct in (50, 99))
    return Latency(
        rate=rate,
        events=len(ordered),
        p50_ms=p50,
        p99_ms=p99,
        max_ms=ordered[-1] if ordered else 0.0,
        poll_ms=POLL_SEC * 1000,
        last_tenth_p50_ms=percentile_nearest_rank(last_tenth, 50) or 0.0,
    )
