"""`switchboard simulate`: realistic synthetic traffic, published in real time with progress."""

from __future__ import annotations

import random
from collections.abc import Sequence

from switchboard.produce import usage_error
from switchboard.settings import Settings
from switchboard.simulation import runner
from switchboard.simulation.telephony import DEFAULT_ENTERPRISES

EXIT_USAGE = 2


async def run_simulation(
    settings: Settings,
    *,
    duration: float,
    rate: float,
    seed: int | None,
    enterprises: Sequence[str] | None,
    speed: float = 1.0,
    deal_rate: float | None = None,
) -> int:
    """Simulates `rate` new calls and `deal_rate` new deals (default: a tenth of `rate`) per
    second for `duration` seconds, `speed` times faster than real time; the same `seed` gives
    the same events relative to the start. Returns the exit status."""
    for name, value in (("duration", duration), ("rate", rate), ("speed", speed)):
        if not value > 0:
            return usage_error(f"--{name} must be positive, got {value:g}")
    if deal_rate is not None and not deal_rate >= 0:
        return usage_error(f"--deal-rate must not be negative, got {deal_rate:g}")
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
    )
    return await runner.run(settings, options)
