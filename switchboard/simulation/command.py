"""`switchboard simulate`: realistic synthetic traffic, published in real time with progress."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from switchboard.console import usage_error
from switchboard.settings import Settings
from switchboard.simulation import runner
from switchboard.simulation.runner import (
    CALLS,
    CONTACT_CENTRE,
    DAY_SCENARIOS,
    DEALS,
    SCENARIOS,
    VOICEBOT,
)
from switchboard.simulation.telephony import DEFAULT_ENTERPRISES
from switchboard.simulation.voicebot import BotConfig

ALL = "all"


async def run_simulation(
    settings: Settings,
    *,
    duration: float,
    rate: float,
    seed: int | None,
    enterprises: Sequence[str] | None,
    speed: float = 1.0,
    deal_rate: float | None = None,
    scenarios: Sequence[str] | None = None,
    day: date | None = None,
    expected: str | None = None,
    queues: int = 3,
    agents: int | None = None,
    calls_per_hour: float | None = None,
    conversations_per_hour: float | None = None,
    bot_calls_per_hour: float | None = None,
) -> int:
    """Simulates `rate` new calls and `deal_rate` new deals (default: a tenth of `rate`) per
    second for `duration` seconds, `speed` times faster than real time (0: as fast as
    possible), a contact centre and its voice bot; or, with `day`, that whole day of the contact
    centre and the bot. The same `seed` gives the same events relative to the start. `expected`
    names the file for the contact centre's and the bot's ground truth. Returns the exit
    status."""
    chosen = _scenarios(scenarios, day)
    problem = _problem(
        duration=duration,
        rate=rate,
        speed=speed,
        deal_rate=deal_rate,
        scenarios=chosen,
        day=day,
        expected=expected,
        calls_per_hour=calls_per_hour,
        conversations_per_hour=conversations_per_hour,
        bot_calls_per_hour=bot_calls_per_hour,
    )
    if problem:
        return usage_error(problem)
    default = runner.default_centre(day)
    try:
        centre = replace(
            default,
            queues=queues,
            agents=agents,
            calls_per_hour=default.calls_per_hour if calls_per_hour is None else calls_per_hour,
            conversations_per_hour=conversations_per_hour,
        )
    except ValueError as exc:
        return usage_error(str(exc))
    bot = None if bot_calls_per_hour is None else BotConfig(calls_per_hour=bot_calls_per_hour)
    try:
        settings.require_kafka()
    except RuntimeError as exc:
        return usage_error(str(exc))
    options = runner.SimulationOptions(
        duration=duration,
        rate=rate,
        # Without a seed one is drawn, and printed, so that an interesting run can be replayed.
        seed=seed if seed is not None else random.SystemRandom().randrange(2**31),
        enterprises=tuple(enterprises or DEFAULT_ENTERPRISES),
        speed=speed,
        deal_rate=deal_rate,
        scenarios=chosen,
        day=day,
        centre=centre,
        bot=bot,
    )
    return await runner.run(settings, options, expected=Path(expected) if expected else None)


def _scenarios(given: Sequence[str] | None, day: date | None) -> tuple[str, ...]:
    """Every scenario by default; a day is the contact centre's and its voice bot's."""
    if not given:
        return DAY_SCENARIOS if day else SCENARIOS
    if ALL in given:
        return SCENARIOS
    return tuple(name for name in SCENARIOS if name in given)


def _problem(
    *,
    duration: float,
    rate: float,
    speed: float,
    deal_rate: float | None,
    scenarios: tuple[str, ...],
    day: date | None,
    expected: str | None,
    calls_per_hour: float | None,
    conversations_per_hour: float | None,
    bot_calls_per_hour: float | None = None,
) -> str | None:
    """Why these options cannot run together, or None."""
    for name, value in (("duration", duration), ("rate", rate)):
        if not value > 0:
            return f"--{name} must be positive, got {value:g}"
    if not speed >= 0:
        return f"--speed must not be negative (0: as fast as possible), got {speed:g}"
    for name, maybe in (
        ("deal-rate", deal_rate),
        ("calls-per-hour", calls_per_hour),
        ("conversations-per-hour", conversations_per_hour),
        ("bot-calls-per-hour", bot_calls_per_hour),
    ):
        if maybe is not None and not maybe >= 0:
            return f"--{name} must not be negative, got {maybe:g}"
    if day and set(scenarios) & {CALLS, DEALS}:
        return (
            "--day simulates the contact centre and its voice bot only:"
            " use --scenario contact-centre and/or --scenario voicebot"
        )
    if expected:
        if not set(scenarios) & {CONTACT_CENTRE, VOICEBOT}:
            return "--expected needs the contact-centre scenario or the voicebot one"
        if CALLS in scenarios:
            # The calls scenario's queue events would count in the same KPIs, unforeseen.
            return "--expected needs the contact centre without the calls scenario"
        if not Path(expected).parent.is_dir():
            return f"--expected: no directory {Path(expected).parent}"
    return None
