"""The figures /api/kpis, /api/queues, /api/operators and /api/timeseries must report for a
simulated range, computed from the simulation's own records of what happened.

This is a second, independent reading of CONTRACT.md section 7 (it shares no code with
streams.contact_centre.figures or .queue_sessions), for the attribution=enqueue
convention:

* a session counts in the range/bucket of its enqueue; offered = sessions; an abandon within the
  queue's short_abandon_sec (inclusive) is a short abandon, counted apart from `abandoned`;
  flow-outs are exit_timeout, exit_empty and exit_key (a transfer ends an answered session);
* wait = exit - enqueue (ringing included); asaSec = wait of answered / answered; avgWaitSec =
  wait of answered and abandoned / (answered + abandoned); slaPct = answered with wait <= the
  queue's sla_threshold_sec / (answered + abandoned) x 100; abandonRatePct = abandoned /
  (offered - short abandons) x 100;
* ahtSec = (talk of handled sessions + wrap-up) / handled, where wrap-up counts in the bucket it
  started in, under the queue its wrapup_start named, on channel voice, for its agent;
* responseSec = nearest-rank p95 of (first unanswered customer message -> agent reply), counted
  in the bucket of the customer message, under the conversation's queue and channel and the
  replying agent;
* an agent's row counts the sessions that agent answered (offered = answered), their own
  wrap-ups and replies; talkSec = their talk; ringNoAnswer = the rings they missed; loginSec,
  readySec, notReadySec, wrapUpSec = time in those states as telephony.agents reports them
  (ready lasts until the next not_ready, wrapup_start or logout: that feed has no talking state);
* counts are null only for a tenant that never had a queue event; otherwise every row and every
  hour has numbers (0 where nothing happened, e.g. the chat channel's `offered`), and a ratio is
  null when its denominator is 0.

Times are summed in whole milliseconds and divided once, so the figures are exact.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.simulation.contact_centre.engine import HOUR
from switchboard.simulation.contact_centre.ledger import (
    Ledger,
    Outcome,
    Response,
    Session,
    WrapUp,
)

KPI_FIELDS = (
    "offered",
    "answered",
    "abandoned",
    "shortAbandoned",
    "flowOut",
    "blocked",
    "asaSec",
    "avgWaitSec",
    "slaPct",
    "abandonRatePct",
    "ahtSec",
    "responseSec",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
QUARTER_HOUR = HOUR // 4


@dataclass
class Tally:
    """Counts and millisecond sums of a set of sessions, wrap-ups and responses."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    flow_out: int = 0
    answered_wait_ms: int = 0
    abandoned_wait_ms: int = 0
    within_sla: int = 0
    handled: int = 0
    talk_ms: int = 0
    wrapup_ms: int = 0
    response_ms: list[int] = field(default_factory=list)

    def add_session(self, session: Session) -> None:
        self.offered += 1
        wait = session.wait_ms
        if session.outcome is Outcome.ANSWERED:
            self.answered += 1
            self.answered_wait_ms += wait
            self.within_sla += wait <= session.sla_threshold_ms
            if session.talk_ms is not None:
                self.handled += 1
                self.talk_ms += session.talk_ms
        elif session.outcome is Outcome.ABANDONED:
            self.abandoned += 1
            self.abandoned_wait_ms += wait
        elif session.outcome is Outcome.SHORT_ABANDONED:
            self.short_abandoned += 1
        elif session.outcome is Outcome.FLOW_OUT:
            self.flow_out += 1
        else:
            raise ValueError(f"session {session.call_id} in {session.queue_id} never ended")

    def add_wrapup(self, wrapup: WrapUp) -> None:
        self.wrapup_ms += wrapup.ended_ms - wrapup.started_ms

    def add_response(self, response: Response) -> None:
        self.response_ms.append(response.replied_ms - response.asked_ms)

    def kpis(self, *, queue_connected: bool = True) -> dict[str, int | float | None]:
        """The /api/kpis fields. Counts are None only when no queue event was ever connected."""
        counted = self.answered + self.abandoned
        figures: dict[str, int | float | None] = {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "shortAbandoned": self.short_abandoned,
            "flowOut": self.flow_out,
            # The simulated callers always get in: nobody is refused entry.
            "blocked": 0,
            "asaSec": _seconds(self.answered_wait_ms, self.answered),
            "avgWaitSec": _seconds(self.answered_wait_ms + self.abandoned_wait_ms, counted),
            "slaPct": _percent(self.within_sla, counted),
            "abandonRatePct": _percent(self.abandoned, self.offered - self.short_abandoned),
            "ahtSec": _seconds(self.talk_ms + self.wrapup_ms, self.handled),
        }
        if not queue_connected:
            figures = dict.fromkeys(figures)
        figures["responseSec"] = p95_sec(self.response_ms)
        return figures


def _seconds(total_ms: int, count: int) -> float | None:
    return total_ms / (1000 * count) if count else None


def _percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def p95_sec(durations_ms: Iterable[int]) -> float | None:
    """The nearest-rank 95th percentile: the ceil(0.95 n)-th smallest, in seconds."""
    ordered = sorted(durations_ms)
    if not ordered:
        return None
    rank = -(-95 * len(ordered) // 100)  # ceil(95 n / 100) in integers
    return ordered[rank - 1] / 1000


def tally(
    sessions: Iterable[Session] = (),
    wrapups: Iterable[WrapUp] = (),
    responses: Iterable[Response] = (),
) -> Tally:
    result = Tally()
    for session in sessions:
        result.add_session(session)
    for wrapup in wrapups:
        result.add_wrapup(wrapup)
    for response in responses:
        result.add_response(response)
    return result


@dataclass(frozen=True)
class _Records:
    """One enterprise's records within the range, by the instant each one counts at."""

    ledger: Ledger
    sessions: list[Session]
    wrapups: list[WrapUp]
    responses: list[Response]


def ground_truth(
    ledgers: Sequence[Ledger], start: datetime, first_ms: int, end_ms: int
) -> dict[str, Any]:
    """The expected figures of every enterprise over [first_ms, end_ms) (ms after `start`),
    widened to whole UTC hours, so that every 15-minute and 1-hour bucket is whole."""
    origin = (start - _EPOCH) // timedelta(milliseconds=1)
    range_from = (origin + first_ms) // HOUR * HOUR
    range_to = -(-(origin + end_ms) // HOUR) * HOUR
    low, high = range_from - origin, range_to - origin
    enterprises = {}
    for ledger in sorted(ledgers, key=lambda led: led.enterprise_id):
        records = _Records(
            ledger,
            [s for s in ledger.sessions if low <= s.enqueued_ms < high],
            [w for w in ledger.wrapups if low <= w.started_ms < high],
            [r for r in ledger.responses if low <= r.asked_ms < high],
        )
        enterprises[ledger.enterprise_id] = _enterprise(records, low, high, origin)
    return {
        "from": _iso(range_from),
        "to": _iso(range_to),
        "attribution": "enqueue",
        "enterprises": enterprises,
    }


def _enterprise(records: _Records, low: int, high: int, origin: int) -> dict[str, Any]:
    ledger = records.ledger
    connected = bool(ledger.sessions)
    everything = tally(records.sessions, records.wrapups, records.responses)
    return {
        "kpis": everything.kpis(queue_connected=connected),
        "queues": _queues(records, connected),
        "operators": _operators(records, low, high, connected),
        "channels": _channels(records, connected),
        "timeseries": {"1h": _timeseries(records, low, high, origin, connected)},
        "queueDepthTrend": _queue_depth(ledger.sessions, low, high, origin),
        "outcomes": dict(sorted(Counter(o.outcome for o in ledger.outcomes).items())),
        "interactions": {"calls": ledger.calls, "conversations": ledger.conversations},
        "events": dict(sorted(ledger.events.items())),
    }


def _tallies(
    records: _Records,
    session_key: Callable[[Session], str | None],
    wrapup_key: Callable[[WrapUp], str | None],
    response_key: Callable[[Response], str | None],
) -> dict[str, Tally]:
    """One tally per key (queue, agent, channel) in one pass; records without a key are left
    out."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for session in records.sessions:
        if (key := session_key(session)) is not None:
            tallies[key].add_session(session)
    for wrapup in records.wrapups:
        if (key := wrapup_key(wrapup)) is not None:
            tallies[key].add_wrapup(wrapup)
    for response in records.responses:
        if (key := response_key(response)) is not None:
            tallies[key].add_response(response)
    return tallies


def _queues(records: _Records, connected: bool) -> dict[str, Any]:
    """A row per queue with a session in the range."""
    tallies = _tallies(records, lambda s: s.queue_id, lambda w: w.queue_id, lambda r: r.queue_id)
    return {
        queue_id: {
            "queueId": queue_id,
            "name": records.ledger.queue_names.get(queue_id),
            **tallies[queue_id].kpis(queue_connected=connected),
        }
        for queue_id in sorted({s.queue_id for s in records.sessions})
    }


def _operators(records: _Records, low: int, high: int, connected: bool) -> dict[str, Any]:
    """A row per agent who logged in, answered or replied in the range."""
    ledger = records.ledger
    tallies = _tallies(
        records,
        lambda s: s.agent_id if s.outcome is Outcome.ANSWERED else None,
        lambda w: w.agent_id,
        lambda r: r.agent_id,
    )
    missed = Counter(r.agent_id for r in ledger.ring_no_answers if low <= r.at_ms < high)
    state_ms: Counter[tuple[str, str]] = Counter()
    for span in ledger.spans:
        if low <= span.started_ms < high:
            state_ms[span.agent_id, span.state] += span.ended_ms - span.started_ms
    agents = {agent for agent, _ in state_ms} | set(tallies)
    rows = {}
    for agent_id in sorted(agents):
        figures = tallies[agent_id]
        rows[agent_id] = {
            "agentId": agent_id,
            "name": ledger.agent_names.get(agent_id),
            **figures.kpis(queue_connected=connected),
            "talkSec": figures.talk_ms / 1000,
            "ringNoAnswer": missed[agent_id],
            "loginSec": state_ms[agent_id, "login"] / 1000,
            "readySec": state_ms[agent_id, "ready"] / 1000,
            "notReadySec": state_ms[agent_id, "not_ready"] / 1000,
            "wrapUpSec": figures.wrapup_ms / 1000,
        }
    return rows


def _channels(records: _Records, connected: bool) -> dict[str, Any]:
    """A row per channel with a session or a response in the range."""
    tallies = _tallies(records, lambda s: s.channel, lambda w: w.channel, lambda r: r.channel)
    channels = {s.channel for s in records.sessions} | {r.channel for r in records.responses}
    return {
        channel: {"channel": channel, **tallies[channel].kpis(queue_connected=connected)}
        for channel in sorted(channels)
    }


def _timeseries(
    records: _Records, low: int, high: int, origin: int, connected: bool
) -> list[dict[str, Any]]:
    """Each hour's KPIs from what counts in it alone; like every row, its counts are 0 rather
    than null once the tenant has ever had a queue event (an hour without a call is 0 calls)."""
    buckets = [Tally() for _ in range((high - low) // HOUR)]
    for session in records.sessions:
        buckets[(session.enqueued_ms - low) // HOUR].add_session(session)
    for wrapup in records.wrapups:
        buckets[(wrapup.started_ms - low) // HOUR].add_wrapup(wrapup)
    for response in records.responses:
        buckets[(response.asked_ms - low) // HOUR].add_response(response)
    return [
        {"ts": _iso(origin + low + n * HOUR), **bucket.kpis(queue_connected=connected)}
        for n, bucket in enumerate(buckets)
    ]


def _queue_depth(
    sessions: Sequence[Session], low: int, high: int, origin: int
) -> list[dict[str, Any]]:
    """Callers waiting at each quarter hour's start, and the longest of their waits so far:
    in the queue from their enqueue until (not including) the instant they left it."""
    samples = []
    for instant in range(low, high, QUARTER_HOUR):
        entered = [
            s.enqueued_ms
            for s in sessions
            if s.enqueued_ms <= instant and (s.exited_ms is None or instant < s.exited_ms)
        ]
        oldest = (instant - min(entered)) / 1000 if entered else None
        samples.append(
            {"ts": _iso(origin + instant), "waiting": len(entered), "oldestWaitSec": oldest}
        )
    return samples


def _iso(epoch_ms: int) -> str:
    instant = _EPOCH + timedelta(milliseconds=epoch_ms)
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
