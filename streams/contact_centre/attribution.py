"""Which bucket each session, wrap-up and response counts in, and what it adds there.

With `enqueue` (default, the Asterisk-tools convention) a session counts in the bucket of its
enqueue time; with `completion` (the Genesys convention) in the bucket of the event that decided
its outcome, so a session still waiting counts nowhere yet. Digital responses count in the bucket
of the customer message (`enqueue`) or of the agent's reply (`completion`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from streams.buckets import BASE_INTERVAL, bucket_start
from streams.contact_centre.figures import IntervalFigures
from streams.contact_centre.filters import ANYTHING, Filter
from streams.contact_centre.queue_sessions import Outcome, QueueSession
from streams.contact_centre.responses import Response
from streams.telephony.wrapups import WrapUp

DEFAULT_SLA_THRESHOLD_SEC = 20.0


class Attribution(StrEnum):
    ENQUEUE = "enqueue"
    COMPLETION = "completion"


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
    where: Filter = ANYTHING,
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
