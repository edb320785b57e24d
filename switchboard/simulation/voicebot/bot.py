"""The voice bot of each enterprise as a simulation process: its calls planned up front, their
events yielded in due order, and its hand-overs given to the contact centre's queues.

A day's bot answers from 07:00 to 22:00 (shaped like the contact centre's day, so busiest late
morning) and hands callers over only while the operators work (08:00-20:00); outside those hours
it tells the caller when they are back and carries on. Pure: the same seed gives the same calls.
"""

from __future__ import annotations

import heapq
import random
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from switchboard.simulation import SimEvent, millisecond_start
from switchboard.simulation.contact_centre import ContactCentre
from switchboard.simulation.contact_centre.config import Handoff, Window
from switchboard.simulation.contact_centre.engine import HOUR, MINUTE
from switchboard.simulation.contact_centre.render import run_namespace
from switchboard.simulation.pbx import phone_number
from switchboard.simulation.voicebot import catalogue as cat
from switchboard.simulation.voicebot.dialogue import BotCall, Conversation
from switchboard.simulation.voicebot.render import CALLS, TOPICS, BotRenderer
from switchboard.simulation.voicebot.truth import QueueVisit, bot_truth, iso, whole_hours

DAY_MS = 24 * HOUR
BOT_DAY = Window(7 * HOUR, 22 * HOUR, shaped=True)
# The A/B test of a simulated day is declared finished before midnight, after the last call.
TEST_FINISHED_MS = DAY_MS - 30 * MINUTE
# Callers who ring again and again (the shop's regulars, known to its CRM), per enterprise.
REGULARS = 80
REGULAR_SHARE = 0.35


@dataclass(frozen=True)
class BotConfig:
    # New bot calls per enterprise and simulated hour, averaged over the bot's hours.
    calls_per_hour: float = 30.0

    def __post_init__(self) -> None:
        if not self.calls_per_hour >= 0:
            raise ValueError(f"bot calls per hour must not be negative, got {self.calls_per_hour}")


@dataclass(frozen=True, order=True)
class _Due:
    due: float
    order: int
    # The call the event belongs to starts here (ms); -1 for set-up events.
    call_started_ms: int = field(compare=False)
    event: SimEvent = field(compare=False)


class EnterpriseBot:
    """One tenant's bot: every call of the run, decided at construction."""

    def __init__(
        self,
        enterprise_id: str,
        config: BotConfig,
        hours: Window,
        operators: Window,
        start: datetime,
        *,
        seed: int,
        namespace: uuid.UUID,
        queues: Sequence[str],
        finish_test_ms: int | None,
    ) -> None:
        self.enterprise_id = enterprise_id
        self._rng = random.Random(f"{seed}/voicebot/{enterprise_id}")
        self._out = BotRenderer(enterprise_id, start, namespace)
        self._operators = operators
        rng = self._rng
        self._regulars = [
            (phone_number(rng), self._out.name("customer", n)) for n in range(REGULARS)
        ]
        self.calls = [self._call(n, at) for n, at in enumerate(_arrivals(rng, config, hours))]
        queue = {c.call_id: _queue_slug(c, queues) for c in self.calls}
        self.handoffs = [
            Handoff(enterprise_id, c.call_id, c.caller_id, queue[c.call_id], c.handoff_ms)
            for c in self.calls
            if c.handoff_ms is not None
        ]
        self.events = self._events(finish_test_ms)

    def _call(self, number: int, at_ms: int) -> BotCall:
        rng, out = self._rng, self._out
        if rng.random() < REGULAR_SHARE:
            caller, customer = rng.choice(self._regulars)
        else:
            caller, customer = phone_number(rng), None
        prompts = cat.PROMPTS
        prompt = rng.choices(prompts, [p.share for p in prompts])[0]
        scenarios = cat.SCENARIOS
        scenario = rng.choices(scenarios, [s.weight for s in scenarios])[0]
        call = BotCall(
            out.name("call", number),
            self.enterprise_id,
            caller,
            customer,
            at_ms,
            scenario,
            prompt,
        )
        conversation = Conversation(
            rng,
            call,
            operators_open=lambda ms: self._operators.open_ms <= ms < self._operators.close_ms,
            name=lambda kind: out.name(kind, number),
        )
        return conversation.play()

    def _events(self, finish_test_ms: int | None) -> list[_Due]:
        out = self._out
        setup = [*out.prompts(0), out.ab_test(0, "running", 0, None), *out.articles(0)]
        timed = [(e, -1) for e in setup]
        for call in self.calls:
            timed += [(e, call.started_ms) for e in out.call(call)]
        if finish_test_ms is not None:
            timed.append((out.ab_test(finish_test_ms, "finished", 0, finish_test_ms), -1))
        return sorted(_Due(e.due, n, started, e) for n, (e, started) in enumerate(timed))


def _arrivals(rng: random.Random, config: BotConfig, hours: Window) -> list[int]:
    """A Poisson process shaped by the time of day, by thinning (see the contact centre's)."""
    if config.calls_per_hour <= 0 or hours.close_ms <= hours.open_ms:
        return []
    peak = hours.peak_intensity
    per_ms = config.calls_per_hour * peak / HOUR
    arrivals: list[int] = []
    t = float(hours.open_ms)
    while True:
        t += rng.expovariate(per_ms)
        if t >= hours.close_ms:
            return arrivals
        if rng.random() * peak < hours.intensity(int(t)):
            arrivals.append(int(t))


def _due(item: _Due) -> float:
    return item.due


def _queue_slug(call: BotCall, queues: Sequence[str]) -> str:
    """The operators' queue for the call's scenario, or the centre's first when it has none."""
    return call.scenario.queue if call.scenario.queue in queues else queues[0]


class VoiceBot:
    """Every enterprise's bot, their events merged in due order (see `Process`)."""

    name = "voice bot"
    topics: tuple[str, ...] = TOPICS

    def __init__(
        self,
        start: datetime,
        hours: Window,
        operators: Window,
        config: BotConfig,
        *,
        seed: int,
        enterprises: Sequence[str],
        queues: Sequence[str],
        finish_test_ms: int | None = None,
        range_end_ms: int | None = None,
    ) -> None:
        if not enterprises:
            raise ValueError("at least one enterprise is needed")
        if not queues:
            raise ValueError("hand-overs need at least one queue")
        self.start = millisecond_start(start)
        namespace = run_namespace(seed, self.start)
        self.bots = [
            EnterpriseBot(
                e,
                config,
                hours,
                operators,
                self.start,
                seed=seed,
                namespace=namespace,
                queues=queues,
                finish_test_ms=finish_test_ms,
            )
            for e in enterprises
        ]
        self._range_end_ms = range_end_ms
        self._now = 0.0
        self._stop_ms: float | None = None
        self._started = 0
        self._close_ms = hours.close_ms
        # What was yielded, per enterprise: the truth is computed from these records.
        self.published: dict[str, list[tuple[str, dict[str, Any]]]] = {e: [] for e in enterprises}

    @classmethod
    def day(
        cls,
        day: date,
        config: BotConfig,
        *,
        seed: int,
        enterprises: Sequence[str],
        queues: Sequence[str],
        operators: Window,
    ) -> VoiceBot:
        """The whole UTC day `day`; the truth covers [day 00:00, next day 00:00)."""
        return cls(
            datetime.combine(day, time(0), tzinfo=UTC),
            BOT_DAY,
            operators,
            config,
            seed=seed,
            enterprises=enterprises,
            queues=queues,
            finish_test_ms=TEST_FINISHED_MS,
            range_end_ms=DAY_MS,
        )

    @classmethod
    def live(
        cls,
        start: datetime,
        seconds: float,
        config: BotConfig,
        *,
        seed: int,
        enterprises: Sequence[str],
        queues: Sequence[str],
    ) -> VoiceBot:
        """Answering from `start` for `seconds` of simulated time, operators in all along."""
        window = Window.live(seconds)
        return cls(start, window, window, config, seed=seed, enterprises=enterprises, queues=queues)

    @property
    def handoffs(self) -> list[Handoff]:
        """Every caller the bots will hand over, for the contact centre to take in."""
        return [h for bot in self.bots for h in bot.handoffs]

    @property
    def started(self) -> int:
        return self._started

    @property
    def draining(self) -> bool:
        return self._stop_ms is not None or self._now * 1000 >= self._close_ms

    def stop_arrivals(self) -> None:
        self._stop_ms = self._now * 1000

    def events(self) -> Iterator[SimEvent]:
        """Every event, in due order; a call that would start after a stop never happens."""
        for item in heapq.merge(*(bot.events for bot in self.bots), key=_due):
            if self._stop_ms is not None and item.call_started_ms > self._stop_ms:
                continue
            self._now = item.due
            event = item.event
            if event.topic == CALLS and event.record["ended_at"] is None:
                self._started += 1
            self.published[event.record["enterprise_id"]].append((event.topic, event.record))
            yield event

    def range_ms(self) -> tuple[int, int]:
        """The truth's range (ms after the start): the whole day, or the run's whole hours."""
        last = max(
            (r["occurred_at"] for rs in self.published.values() for _, r in rs), default=None
        )
        end = 0 if last is None else int((last - self.start).total_seconds() * 1000) + 1
        return 0, max(end, self._range_end_ms or 0)

    def truth(self, visits: Iterable[QueueVisit] = ()) -> dict[str, Any]:
        """The expected figures of every enterprise over the whole simulated range (after
        `events()` is exhausted), widened to whole UTC hours; `visits` are the queue sessions
        of the contact centre that took the hand-overs."""
        low, high = whole_hours(self.start, *self.range_ms())
        by_enterprise: dict[str, list[QueueVisit]] = defaultdict(list)
        for visit in visits:
            by_enterprise[visit.enterprise_id].append(visit)
        return {
            "from": iso(low),
            "to": iso(high),
            "enterprises": {
                e: bot_truth(self.published[e], by_enterprise[e], low, high)
                for e in sorted(self.published)
            },
        }


def visits_of(centre: ContactCentre) -> list[QueueVisit]:
    """The contact centre's queue sessions (after its run), as the hand-overs' truth reads
    them."""
    return [
        QueueVisit(
            s.enterprise_id,
            s.call_id,
            centre.start + timedelta(milliseconds=s.enqueued_ms),
            s.outcome.value,
            s.wait_ms,
        )
        for ledger in centre.ledgers
        for s in ledger.sessions
        if s.outcome is not None
    ]
