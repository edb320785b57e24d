"""Publishes a simulation in real time: each event when its time comes, with progress on stderr.

New interactions start for `duration` wall-clock seconds; then the events still to come of the
interactions in flight are sent as soon as the wall clock reaches them, so every call completes.
Ctrl-C (or SIGTERM) ends the arrivals early the same way; a second one stops without finishing
the calls in flight. Either way the producer is flushed before returning.

No event is ever sent before the wall clock reaches its time: the worker refuses events dated
ahead of it (SWITCHBOARD_MAX_FUTURE_SEC), as it would a PBX with a broken clock.

`speed` 0 sends everything as fast as the broker takes it; a live run then ends now, its calls
in flight included. A `day` simulates that whole UTC day of the contact centre instead of
starting now; with `expected`, the contact centre's ground truth (see
switchboard.simulation.contact_centre.truth) and the voice bot's (under "voicebot", see
switchboard.simulation.voicebot.truth) are written there at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

from schemas import topics
from schemas.publishing import ContractPublisher, connect_publisher
from switchboard.console import EXIT_FAILED, EXIT_OK
from switchboard.kafka.publisher import PublishError
from switchboard.settings import Settings
from switchboard.simulation import Process, Scenario, SimEvent, Timeline
from switchboard.simulation.contact_centre import CentreConfig, ContactCentre, Window
from switchboard.simulation.contact_centre.config import Handoff, queue_profiles
from switchboard.simulation.deals import DealScenario
from switchboard.simulation.telephony import DEFAULT_ENTERPRISES, TelephonyScenario
from switchboard.simulation.voicebot import BotConfig, VoiceBot, visits_of

# 128 + SIGINT, as a shell reports a command stopped by Ctrl-C.
EXIT_ABORTED = 130
# Reported failures beyond this many are only counted: one cause usually fails them all.
_FAILURES_SHOWN = 10
# While draining there is no waiting, so the loop is given a turn (signals, progress) this often.
_YIELD_EVERY_EVENTS = 256
_ABORT_FLUSH_SEC = 5.0
# New deals per new call unless --deal-rate says otherwise: deals are far rarer than calls.
DEALS_PER_CALL = 0.1
# The scenarios: Asterisk calls, master deals, the contact centre and the voice bot in front of
# it, both with their ground truth.
CALLS, DEALS, CONTACT_CENTRE, VOICEBOT = "calls", "deals", "contact-centre", "voicebot"
SCENARIOS = (CALLS, DEALS, CONTACT_CENTRE, VOICEBOT)
# A day simulates these unless told otherwise.
DAY_SCENARIOS = (CONTACT_CENTRE, VOICEBOT)
# A live contact centre is busier than a day's average, so that a short run shows traffic.
LIVE_CALLS_PER_HOUR = 600.0
LIVE_BOT_CALLS_PER_HOUR = 360.0


@dataclass(frozen=True)
class SimulationOptions:
    duration: float  # wall-clock seconds during which new interactions start
    rate: float  # new calls per wall-clock second
    seed: int
    enterprises: tuple[str, ...] = DEFAULT_ENTERPRISES
    speed: float = 1.0  # simulated seconds per wall-clock second; 0: as fast as possible
    # New deals per wall-clock second; None: DEALS_PER_CALL of `rate`. Each deal's business
    # days are compressed further (see switchboard.simulation.deals).
    deal_rate: float | None = None
    scenarios: tuple[str, ...] = (CALLS, DEALS)
    # A whole UTC day of the contact centre instead of a window starting now.
    day: date | None = None
    # The contact centre's scale; None: the defaults, busier for a live run.
    centre: CentreConfig | None = None
    # The voice bot's traffic; None: the defaults, busier for a live run.
    bot: BotConfig | None = None

    @property
    def deals_per_second(self) -> float:
        return self.rate * DEALS_PER_CALL if self.deal_rate is None else self.deal_rate

    @property
    def paced(self) -> bool:
        return self.speed > 0

    @property
    def time_scale(self) -> float:
        """Simulated seconds per wall-clock second for the rates; unpaced, the rates and the
        duration are read as simulated time."""
        return self.speed if self.paced else 1.0

    @property
    def simulated_seconds(self) -> float:
        """How long new interactions start for, in simulated seconds."""
        return 86400.0 if self.day else self.duration * self.time_scale

    @property
    def centre_config(self) -> CentreConfig:
        return self.centre if self.centre is not None else default_centre(self.day)

    @property
    def bot_config(self) -> BotConfig:
        if self.bot is not None:
            return self.bot
        return BotConfig() if self.day else BotConfig(calls_per_hour=LIVE_BOT_CALLS_PER_HOUR)

    def start_time(self, now: datetime) -> datetime:
        """When simulated time begins: now, or, sped up, early enough that the window of new
        calls ends now instead of in the future; unpaced, early enough that the whole run, the
        calls in flight at its end included, is over by now; a day's midnight."""
        if self.day:
            return datetime.combine(self.day, time(0), tzinfo=UTC)
        if not self.paced:
            return now - timedelta(seconds=timeline_span(self))
        return now - timedelta(seconds=self.duration * max(self.speed - 1.0, 0.0))


def default_centre(day: date | None) -> CentreConfig:
    """A day's contact centre at its everyday scale, or a live one, busier."""
    return CentreConfig() if day else CentreConfig(calls_per_hour=LIVE_CALLS_PER_HOUR)


def build_timeline(
    options: SimulationOptions, start: datetime
) -> tuple[Timeline, list[Scenario | Process]]:
    """Every scenario of the simulation, in simulated time, from one seeded generator."""
    rng = random.Random(options.seed)
    scale, tenants = options.time_scale, options.enterprises
    scenarios: list[Scenario] = []
    if CALLS in options.scenarios:
        scenarios.append(TelephonyScenario(rng, start, options.rate / scale, enterprises=tenants))
    if DEALS in options.scenarios:
        deals = options.deals_per_second / scale
        scenarios.append(DealScenario(rng, start, deals, enterprises=tenants))
    processes: list[Process] = []
    # The bot goes first: the contact centre takes in the callers it hands over.
    bot = voice_bot(options, start) if VOICEBOT in options.scenarios else None
    if CONTACT_CENTRE in options.scenarios:
        processes.append(contact_centre(options, start, bot.handoffs if bot else ()))
    if bot is not None:
        processes.append(bot)
    timeline = Timeline(rng, scenarios, until=options.simulated_seconds, processes=processes)
    return timeline, [*scenarios, *processes]


def timeline_span(options: SimulationOptions) -> float:
    """Simulated seconds from the start to the last event: the run generated once, unsent.
    The timeline is seeded, so a second build from another start is the same run, shifted."""
    timeline, _ = build_timeline(options, datetime.now(UTC))
    return max((event.due for event in timeline), default=0.0)


def contact_centre(
    options: SimulationOptions, start: datetime, handoffs: Sequence[Handoff] = ()
) -> ContactCentre:
    config, seed, tenants = options.centre_config, options.seed, options.enterprises
    if options.day:
        return ContactCentre.day(
            options.day, config, seed=seed, enterprises=tenants, handoffs=handoffs
        )
    return ContactCentre.live(
        start,
        options.simulated_seconds,
        config,
        seed=seed,
        enterprises=tenants,
        handoffs=handoffs,
    )


def voice_bot(options: SimulationOptions, start: datetime) -> VoiceBot:
    """Each enterprise's bot, handing callers over to the contact centre's queues."""
    config, seed, tenants = options.bot_config, options.seed, options.enterprises
    queues = [profile.slug for profile in queue_profiles(options.centre_config.queues)]
    if options.day:
        return VoiceBot.day(
            options.day,
            config,
            seed=seed,
            enterprises=tenants,
            queues=queues,
            operators=Window.day(),
        )
    return VoiceBot.live(
        start, options.simulated_seconds, config, seed=seed, enterprises=tenants, queues=queues
    )


def describe(options: SimulationOptions) -> str:
    """The run in one line: what, how fast, which seed and tenants."""
    parts = []
    if CALLS in options.scenarios:
        parts.append(f"{options.rate:g} calls/s")
    if DEALS in options.scenarios:
        parts.append(f"{options.deals_per_second:g} deals/s")
    if CONTACT_CENTRE in options.scenarios:
        config = options.centre_config
        agents = f"{config.agents} agents" if config.agents else "agents as needed"
        parts.append(
            f"a contact centre ({config.calls_per_hour:g} calls/h, {config.queues} queues,"
            f" {agents} per enterprise)"
        )
    if VOICEBOT in options.scenarios:
        parts.append(f"a voice bot ({options.bot_config.calls_per_hour:g} calls/h per enterprise)")
    when = f"on {options.day.isoformat()}" if options.day else f"for {options.duration:g} s"
    pace = f"{options.speed:g}x time" if options.paced else "as fast as possible"
    return (
        f"simulating {' and '.join(parts)} {when} ({pace}, seed {options.seed},"
        f" enterprises {', '.join(options.enterprises)}); Ctrl-C stops"
    )


def write_truth(path: Path, centre: ContactCentre | None, bot: VoiceBot | None = None) -> None:
    """The contact centre's expected KPIs, and the voice bot's figures under "voicebot", as
    JSON: the same run always writes the same bytes."""
    truth: dict[str, Any] = centre.truth() if centre is not None else {}
    if bot is not None:
        truth["voicebot"] = bot.truth(visits_of(centre) if centre is not None else ())
    text = json.dumps(truth, indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


class _Console:
    """Progress on one updating line on a terminal, a line at a time elsewhere (logs)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.live = stream.isatty()
        self._status_shown = False

    def status(self, text: str) -> None:
        if self.live:
            self._stream.write(f"\r\x1b[K{text}")
            self._status_shown = True
        else:
            self._stream.write(f"{text}\n")
        self._stream.flush()

    def line(self, text: str) -> None:
        if self._status_shown:
            self._stream.write("\r\x1b[K")
            self._status_shown = False
        self._stream.write(f"{text}\n")
        self._stream.flush()


class _Failures:
    def __init__(self, console: _Console) -> None:
        self._console = console
        self.count = 0

    def report(self, context: str, reason: str) -> None:
        self.count += 1
        if self.count <= _FAILURES_SHOWN:
            self._console.line(f"{context}: {reason}")
        elif self.count == _FAILURES_SHOWN + 1:
            self._console.line("further failures are counted, not shown")


class _Run:
    """Sends each event when its time comes: `anchor` (loop time) is the simulation's start,
    which lies `start_offset` seconds (at most 0) after the wall clock's now at that instant."""

    def __init__(
        self,
        timeline: Timeline,
        publisher: ContractPublisher,
        failures: _Failures,
        *,
        anchor: float,
        speed: float,
        start_offset: float = 0.0,
    ) -> None:
        self.timeline = timeline
        self.publisher = publisher
        self.failures = failures
        self.anchor = anchor
        self.speed = speed
        self.start_offset = start_offset
        self.stopping = asyncio.Event()
        self.aborting = asyncio.Event()
        self.aborted = False
        self.per_topic: Counter[str] = Counter()

    def interrupt(self) -> None:
        # Once arrivals are over, only the calls in flight remain: stopping means aborting them.
        if self.stopping.is_set() or self.timeline.draining:
            self.aborted = True
            self.aborting.set()
        self.stopping.set()
        self.timeline.stop_arrivals()

    async def publish_all(self) -> None:
        loop = asyncio.get_running_loop()
        for count, event in enumerate(self.timeline):
            if self.aborted:
                return
            if self.speed and not (self.timeline.draining or self.stopping.is_set()):
                await self._until(self.anchor + event.due / self.speed, self.stopping)
            # `due` is never before the record's occurred_at: waiting for it keeps every
            # record's time at or behind the wall clock, also while draining.
            not_before = self.anchor + self.start_offset + event.due
            if not_before > loop.time() + 0.001:
                await self._until(not_before, self.aborting)
                if self.aborted:
                    return
            elif count % _YIELD_EVERY_EVENTS == 0:
                await asyncio.sleep(0)
            await self._publish(event)

    @staticmethod
    async def _until(moment: float, interrupted_by: asyncio.Event) -> None:
        delay = moment - asyncio.get_running_loop().time()
        if delay > 0.001:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(interrupted_by.wait(), delay)

    async def _publish(self, event: SimEvent) -> None:
        context = f"{event.topic} {event.key} {event.record.get('event_type')}"
        try:
            await self.publisher.publish(
                topics.topic(event.topic), event.record, context=context, key=event.key
            )
        except ValueError as exc:  # a generator bug, not the broker's: say so, keep going
            self.failures.report(context, f"invalid record: {exc}")
            return
        self.per_topic[event.topic] += 1


class _Progress:
    def __init__(self, run: _Run, console: _Console) -> None:
        self._run = run
        self._console = console
        self._last = (run.anchor, 0)

    async def show(self, every: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(every)
            self._console.status(self._line(loop.time()))

    def _line(self, now: float) -> str:
        run, publisher = self._run, self._run.publisher
        then, sent_then = self._last
        self._last = (now, publisher.sent)
        per_second = (publisher.sent - sent_then) / max(now - then, 1e-9)
        phase = (
            "  finishing the calls in flight as the clock reaches them (Ctrl-C: stop now)"
            if run.timeline.draining
            else ""
        )
        return (
            f"{now - run.anchor:6.0f} s  started: {_started(run.timeline)}"
            f"  events sent {publisher.sent}  errors {run.failures.count}"
            f"  {per_second:.0f} events/s{phase}"
        )


def _started(timeline: Timeline) -> str:
    return ", ".join(f"{name} {count}" for name, count in timeline.started.items())


@contextlib.contextmanager
def _interrupts(handler: Callable[[], None]) -> Iterator[None]:
    """Ctrl-C and SIGTERM call `handler` instead of killing the run."""
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, handler)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
            continue
        installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def run(
    settings: Settings,
    options: SimulationOptions,
    err: TextIO = sys.stderr,
    *,
    expected: Path | None = None,
) -> int:
    """Runs the simulation against the configured broker and registry; returns the exit status.
    With `expected`, writes the ground truth there once every event is sent."""
    console = _Console(err)
    failures = _Failures(console)
    loop = asyncio.get_running_loop()
    # The same instant on both clocks: simulated time 0 is sent at loop time `anchor`, so the
    # events due while the topics are prepared go out right after, not late by that long.
    now = datetime.now(UTC)
    start = options.start_time(now)
    now, anchor = datetime.now(UTC), loop.time()
    timeline, sources = build_timeline(options, start)
    console.line(describe(options))
    try:
        async with connect_publisher(settings, on_failure=failures.report) as publisher:
            await publisher.prepare(topics.topic(name) for s in sources for name in s.topics)
            simulation = _Run(
                timeline,
                publisher,
                failures,
                anchor=anchor,
                speed=options.speed,
                start_offset=(start - now).total_seconds(),
            )
            progress = asyncio.create_task(
                _Progress(simulation, console).show(every=2.0 if console.live else 5.0)
            )
            try:
                with _interrupts(simulation.interrupt):
                    await simulation.publish_all()
                    if simulation.aborted:  # asked twice to stop: don't wait long for the broker
                        await publisher.flush(_ABORT_FLUSH_SEC)
            finally:
                progress.cancel()
    except PublishError as exc:
        console.line(f"error: {exc}")
        return EXIT_FAILED
    sent = ", ".join(f"{name} {n}" for name, n in sorted(simulation.per_topic.items()))
    console.line(
        f"done in {loop.time() - anchor:.1f} s: started {_started(timeline)};"
        f" {publisher.sent} events sent ({sent or 'none'}), {publisher.delivered} delivered,"
        f" {failures.count} failed"
        + ("; stopped before the calls in flight finished" if simulation.aborted else "")
    )
    if simulation.aborted:
        return EXIT_ABORTED
    if expected is not None:
        centre = next((s for s in sources if isinstance(s, ContactCentre)), None)
        bot = next((s for s in sources if isinstance(s, VoiceBot)), None)
        try:
            write_truth(expected, centre, bot)
        except OSError as exc:
            console.line(f"error: cannot write the expected figures to {expected}: {exc}")
            return EXIT_FAILED
        console.line(f"expected figures written to {expected}")
    return EXIT_FAILED if failures.count else EXIT_OK
