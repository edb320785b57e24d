"""Contact-centre KPIs (contract section 7) over queue sessions and digital messages.

The stream keeps, per interval bucket and filter, an `IntervalFigures`: sums and counts only, so
that buckets roll up (15m -> 30m -> 1h -> 1d) and combine (queues -> all queues) by adding, and
every ratio is recomputed from the sums at the end. Averages of averages never appear.

Attribution: with `enqueue` (default, the Asterisk-tools convention) a session counts in the
bucket of its enqueue time; with `completion` (the Genesys convention) in the bucket of the event
that decided its outcome, so a session still waiting counts nowhere yet. Digital responses count in
the bucket of the customer message (`enqueue`) or of the agent's reply (`completion`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from streams.queue_sessions import Outcome, QueueSession

DEFAULT_SLA_THRESHOLD_SEC = 20.0
BASE_INTERVAL = "15m"
INTERVALS: Mapping[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
RESPONSE_PERCENTILE = 95.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Attribution(StrEnum):
    ENQUEUE = "enqueue"
    COMPLETION = "completion"


@dataclass(frozen=True, slots=True)
class WrapUp:
    """After-call work of an agent (telephony.agents wrapup_start -> wrapup_end), for AHT."""

    enterprise_id: str
    agent_id: str
    started_at: datetime
    duration_sec: float
    queue_id: str | None = None
    channel: str | None = None


class DigitalMessage(Protocol):
    """What response times need of a digital.messages event (streams.digital.MessageEvent)."""

    @property
    def event_key(self) -> str: ...
    @property
    def enterprise_id(self) -> str: ...
    @property
    def conversation_id(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def sender(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def agent_id(self) -> str | None: ...
    @property
    def queue_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Response:
    """A customer waiting for an agent: from their first unanswered message to the reply."""

    enterprise_id: str
    conversation_id: str
    channel: str
    asked_at: datetime
    replied_at: datetime
    agent_id: str | None
    queue_id: str | None

    @property
    def seconds(self) -> float:
        return (self.replied_at - self.asked_at).total_seconds()


@dataclass(frozen=True, slots=True)
class Filter:
    """The /api/kpis filters; None matches anything. A filter on an attribute that a record does
    not carry (a wrap-up without queue_id under a queue filter) does not match it."""

    enterprise_id: str | None = None
    queue_id: str | None = None
    channel: str | None = None
    agent_id: str | None = None

    def matches(self, record: QueueSession | WrapUp | Response) -> bool:
        return all(
            wanted is None or getattr(record, name, None) == wanted
            for name, wanted in (
                ("enterprise_id", self.enterprise_id),
                ("queue_id", self.queue_id),
                ("channel", self.channel),
                ("agent_id", self.agent_id),
            )
        )


@dataclass(frozen=True, slots=True)
class IntervalFigures:
    """Additive figures of one bucket: what the stream upserts and the API rolls up.

    `queue_connected`/`digital_connected` say whether any input of that kind fed the figures;
    metrics of an unconnected input are None rather than 0.
    """

    queue_connected: bool = False
    digital_connected: bool = False
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    flow_out: int = 0
    blocked: int = 0
    answered_wait_sec: float = 0.0
    abandoned_wait_sec: float = 0.0
    answered_within_sla: int = 0
    handled: int = 0
    talk_sec: float = 0.0
    wrapup_sec: float = 0.0
    # Percentiles do not add up, so the bucket keeps its samples (sorted) instead.
    response_samples: tuple[float, ...] = field(default=())

    def merge(self, other: IntervalFigures) -> IntervalFigures:
        """The figures of both together: commutative and associative, with `IntervalFigures()`
        as the identity."""
        merged: dict[str, Any] = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, bool):
                merged[f.name] = mine or theirs
            elif isinstance(mine, tuple):
                merged[f.name] = tuple(sorted((*mine, *theirs)))
            else:
                merged[f.name] = mine + theirs
        return IntervalFigures(**merged)


@dataclass(frozen=True, slots=True)
class Kpis:
    """The /api/kpis figures (contract section 6 names, in snake_case; `to_json` spells them)."""

    offered: int | None
    answered: int | None
    abandoned: int | None
    short_abandoned: int | None
    flow_out: int | None
    blocked: int | None
    asa_sec: float | None
    avg_wait_sec: float | None
    sla_pct: float | None
    abandon_rate_pct: float | None
    aht_sec: float | None
    response_sec: float | None

    def to_json(self) -> dict[str, float | int | None]:
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "shortAbandoned": self.short_abandoned,
            "flowOut": self.flow_out,
            "blocked": self.blocked,
            "asaSec": self.asa_sec,
            "avgWaitSec": self.avg_wait_sec,
            "slaPct": self.sla_pct,
            "abandonRatePct": self.abandon_rate_pct,
            "ahtSec": self.aht_sec,
            "responseSec": self.response_sec,
        }


@dataclass(frozen=True, slots=True)
class DepthSample:
    """Sessions waiting at `ts`, and how long the longest-waiting of them had waited."""

    ts: datetime
    waiting: int
    oldest_wait_sec: float | None


# -- metrics from figures ---------------------------------------------------------------------


def kpis(figures: IntervalFigures) -> Kpis:
    """The metrics of section 7 from additive figures; a zero denominator gives None."""
    queue = figures.queue_connected
    f = figures
    return Kpis(
        offered=f.offered if queue else None,
        answered=f.answered if queue else None,
        abandoned=f.abandoned if queue else None,
        short_abandoned=f.short_abandoned if queue else None,
        flow_out=f.flow_out if queue else None,
        blocked=f.blocked if queue else None,
        asa_sec=_ratio(f.answered_wait_sec, f.answered) if queue else None,
        avg_wait_sec=(
            _ratio(f.answered_wait_sec + f.abandoned_wait_sec, f.answered + f.abandoned)
            if queue
            else None
        ),
        sla_pct=_percent(f.answered_within_sla, f.answered + f.abandoned) if queue else None,
        # Short abandons and refused entries are not in `abandoned`, so only the denominator
        # needs them taken out.
        abandon_rate_pct=(
            _percent(f.abandoned, f.offered - f.short_abandoned - f.blocked) if queue else None
        ),
        aht_sec=_ratio(f.talk_sec + f.wrapup_sec, f.handled) if queue else None,
        response_sec=(
            percentile_nearest_rank(f.response_samples, RESPONSE_PERCENTILE)
            if f.digital_connected
            else None
        ),
    )


def _ratio(numerator: float, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _percent(numerator: int, denominator: int) -> float | None:
    return 100.0 * numerator / denominator if denominator > 0 else None


def percentile_nearest_rank(values: Iterable[float], pct: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least pct% of values at or below
    it, i.e. the ceil(pct/100 * n)-th smallest. Chosen over interpolation because it is always a
    response that really happened and is exact whatever the bucket size. None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {pct}")
    rank = math.ceil(pct / 100.0 * len(ordered))
    return ordered[rank - 1]


# -- buckets ----------------------------------------------------------------------------------


def bucket_start(instant: datetime, interval: str = BASE_INTERVAL) -> datetime:
    """The start of the UTC-aligned bucket holding `instant` (days are UTC days)."""
    step = _step(interval)
    return instant - (instant - _EPOCH) % step


def rollup(
    buckets: Mapping[datetime, IntervalFigures], interval: str
) -> dict[datetime, IntervalFigures]:
    """Finer buckets merged into the coarser `interval` (which must be a multiple of them)."""
    coarse: dict[datetime, IntervalFigures] = defaultdict(IntervalFigures)
    for start, figures in buckets.items():
        target = bucket_start(start, interval)
        coarse[target] = coarse[target].merge(figures)
    return dict(sorted(coarse.items()))


def total(buckets: Iterable[IntervalFigures]) -> IntervalFigures:
    """All buckets as one: the figures of a whole `from`..`to` range."""
    result = IntervalFigures()
    for figures in buckets:
        result = result.merge(figures)
    return result


def _step(interval: str) -> timedelta:
    try:
        return INTERVALS[interval]
    except KeyError:
        raise ValueError(
            f"interval must be one of {', '.join(INTERVALS)}, got {interval!r}"
        ) from None


# -- figures from sessions, wrap-ups and responses --------------------------------------------


def session_figures(session: QueueSession, sla_threshold_sec: float) -> IntervalFigures:
    """What one session adds to the bucket it is attributed to."""
    outcome, wait = session.outcome, session.wait_sec or 0.0
    answered = outcome is Outcome.ANSWERED
    handled = answered and session.talk_sec is not None
    return IntervalFigures(
        queue_connected=True,
        offered=1,
        answered=int(answered),
        abandoned=int(outcome is Outcome.ABANDONED),
        short_abandoned=int(outcome is Outcome.SHORT_ABANDONED),
        flow_out=int(outcome is Outcome.FLOW_OUT),
        blocked=int(outcome is Outcome.BLOCKED),
        answered_wait_sec=wait if answered else 0.0,
        abandoned_wait_sec=wait if outcome is Outcome.ABANDONED else 0.0,
        answered_within_sla=int(answered and wait <= sla_threshold_sec),
        handled=int(handled),
        talk_sec=(session.talk_sec or 0.0) if handled else 0.0,
    )


def attributed_at(session: QueueSession, attribution: Attribution) -> datetime | None:
    """The instant whose bucket the session counts in; None for an open session by completion."""
    if attribution is Attribution.ENQUEUE:
        return session.enqueued_at
    return session.completed_at


def bucket_figures(
    sessions: Iterable[QueueSession] = (),
    *,
    wrapups: Iterable[WrapUp] = (),
    responses: Iterable[Response] = (),
    interval: str = BASE_INTERVAL,
    attribution: Attribution = Attribution.ENQUEUE,
    sla_threshold_sec: Mapping[str, float] | float | None = None,
    where: Filter = Filter(),
) -> dict[datetime, IntervalFigures]:
    """Figures per bucket start, for the records that pass `where`.

    `sla_threshold_sec` is one threshold for every queue (the API's override) or one per queue_id
    (the queue dimension's), with 20 s for queues it does not name. Wrap-ups count in the bucket
    where they started, whatever the attribution.
    """
    threshold = _thresholds(sla_threshold_sec)
    buckets: dict[datetime, IntervalFigures] = defaultdict(IntervalFigures)

    def add(instant: datetime | None, figures: IntervalFigures) -> None:
        if instant is not None:
            start = bucket_start(instant, interval)
            buckets[start] = buckets[start].merge(figures)

    for session in filter(where.matches, sessions):
        add(
            attributed_at(session, attribution),
            session_figures(session, threshold(session.queue_id)),
        )
    for wrapup in filter(where.matches, wrapups):
        add(wrapup.started_at, IntervalFigures(wrapup_sec=wrapup.duration_sec))
    for response in filter(where.matches, responses):
        at = response.asked_at if attribution is Attribution.ENQUEUE else response.replied_at
        add(at, IntervalFigures(digital_connected=True, response_samples=(response.seconds,)))
    return dict(sorted(buckets.items()))


def _thresholds(given: Mapping[str, float] | float | None) -> Callable[[str], float]:
    if given is None:
        return lambda _queue: DEFAULT_SLA_THRESHOLD_SEC
    if isinstance(given, int | float):
        return lambda _queue: float(given)
    return lambda queue: given.get(queue, DEFAULT_SLA_THRESHOLD_SEC)


# -- digital responses ------------------------------------------------------------------------


def fold_responses(messages: Iterable[DigitalMessage]) -> tuple[Response, ...]:
    """Each agent reply with the customer's wait before it, per conversation.

    The wait starts at the *first* customer message since the last agent reply: a customer who
    writes three lines waited from the first one, and counting each line separately would make a
    chatty customer look well served. Bot and system messages are not replies. A pure function of
    the set of messages (deduplicated by event_key, ordered by time then key).
    """
    distinct = {m.event_key: m for m in messages}
    by_conversation: dict[tuple[str, str], list[DigitalMessage]] = defaultdict(list)
    for message in distinct.values():
        by_conversation[(message.enterprise_id, message.conversation_id)].append(message)
    responses: list[Response] = []
    for conversation in by_conversation.values():
        conversation.sort(key=lambda m: (m.occurred_at, m.event_key))
        responses.extend(_conversation_responses(conversation))
    return tuple(sorted(responses, key=lambda r: (r.asked_at, r.conversation_id, r.replied_at)))


def _conversation_responses(messages: list[DigitalMessage]) -> Iterable[Response]:
    asked: DigitalMessage | None = None
    for message in messages:
        if message.sender == "customer" and asked is None:
            asked = message
        elif message.sender == "agent" and asked is not None:
            yield Response(
                enterprise_id=asked.enterprise_id,
                conversation_id=asked.conversation_id,
                channel=asked.channel,
                asked_at=asked.occurred_at,
                replied_at=message.occurred_at,
                agent_id=message.agent_id,
                queue_id=message.queue_id or asked.queue_id,
            )
            asked = None


# -- queue depth ------------------------------------------------------------------------------


def queue_depth_trend(
    sessions: Iterable[QueueSession],
    start: datetime,
    end: datetime,
    *,
    interval: str = BASE_INTERVAL,
    where: Filter = Filter(),
) -> list[DepthSample]:
    """The queue's depth sampled at the start of every bucket in [start, end).

    A snapshot, not a sum: sampling at bucket starts makes a 1h bucket's sample the same instant
    as its first 15m bucket's, so coarser intervals are exact subsets of finer ones.
    """
    step = _step(interval)
    matching = [s for s in sessions if where.matches(s)]
    samples = []
    instant = bucket_start(start, interval)
    if instant < start:
        instant += step
    while instant < end:
        waiting = [s for s in matching if s.waiting_at(instant)]
        oldest = min((s.enqueued_at for s in waiting), default=None)
        samples.append(
            DepthSample(
                ts=instant,
                waiting=len(waiting),
                oldest_wait_sec=(instant - oldest).total_seconds() if oldest else None,
            )
        )
        instant += step
    return samples
