"""Reconciliation (7.4.2, level 3): does the master stage agree with what the domains report?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from streams.masterdeal.domain_status import status_event_type
from streams.masterdeal.fold import DealState
from streams.masterdeal.stages import STAGE_RANK, Stage, highest_stage


@dataclass(frozen=True, slots=True)
class Desync:
    """The master stage disagrees with what the domains report."""

    master_stage: Stage | None
    implied_stage: Stage | None
    # "lags": the domains are further along; "leads": the master is further along.
    direction: Literal["lags", "leads"]
    # Domains whose status the mapping does not know (they imply nothing).
    unmapped: tuple[str, ...]

    @property
    def repairable(self) -> bool:
        """Only a lag is: a stage may move forward, never back, so a lead needs a human."""
        return self.direction == "lags"


def implied_stage(reported: Mapping[str, str]) -> Stage | None:
    """The master stage the domains' last reported statuses add up to."""
    return highest_stage(
        t for d, s in reported.items() if (t := status_event_type(d, s)) is not None
    )


def desync(state: DealState, reported: Mapping[str, str]) -> Desync | None:
    """How the master stage differs from `reported` ({domain: last status}); None if in sync."""
    implied = implied_stage(reported)
    master = state.stage
    if implied == master:
        return None
    unmapped = tuple(sorted(d for d, s in reported.items() if status_event_type(d, s) is None))
    lags = implied is not None and (master is None or STAGE_RANK[implied] > STAGE_RANK[master])
    return Desync(master, implied, "lags" if lags else "leads", unmapped)
