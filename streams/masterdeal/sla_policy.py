"""The SLA policy: how long a deal may stay in each stage, and from creation to close, as a
deployment sets it (SWITCHBOARD_SLA, e.g. "briefed=2d,offer_ready=5d,deal=30d")."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from streams.masterdeal.stages import STAGE_RANK, STAGES, Stage

# The SLA target of the whole deal, as opposed to one stage's.
DEAL_TARGET = "deal"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LIMIT = re.compile(r"^\s*(\w+)\s*=\s*(\d+)\s*([smhdw])\s*$")


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """How long a deal may stay in each stage, and from creation to close.

    The defaults are a starting point, not a business rule: deployments set their own with
    `parse_sla_policy`. A stage without a limit is never overrun; `closed` cannot have one.
    """

    stages: Mapping[Stage, timedelta] = field(
        default_factory=lambda: {
            "lead_created": timedelta(days=2),
            "briefed": timedelta(days=2),
            "offer_ready": timedelta(days=5),
            "contracting": timedelta(days=10),
            "closing": timedelta(days=10),
        }
    )
    deal: timedelta | None = timedelta(days=30)

    def __post_init__(self) -> None:
        if "closed" in self.stages:
            raise ValueError("closed is the last stage: it has no time limit")


def parse_sla_policy(text: str) -> SlaPolicy:
    """A policy from "briefed=2d,offer_ready=5d,deal=30d" (units s, m, h, d, w).

    Only what the text names is limited, so an empty text means no SLA at all.
    """
    stages: dict[Stage, timedelta] = {}
    deal: timedelta | None = None
    for item in filter(str.strip, text.split(",")):
        match = _LIMIT.match(item)
        if match is None:
            raise ValueError(
                f"bad SLA limit {item.strip()!r}: expected <stage|deal>=<n><s|m|h|d|w>"
            )
        name, amount, unit = match.groups()
        limit = timedelta(seconds=int(amount) * _UNITS[unit])
        if name == DEAL_TARGET:
            deal = limit
        elif name in STAGE_RANK and name != "closed":
            stages[STAGES[STAGE_RANK[name]]] = limit
        else:
            targets = ", ".join((*STAGES[:-1], DEAL_TARGET))
            raise ValueError(f"unknown SLA target {name!r}; known targets: {targets}")
    return SlaPolicy(stages=stages, deal=deal)


def configured_sla_policy(text: str | None) -> SlaPolicy:
    """The policy a deployment configured (SWITCHBOARD_SLA), or the defaults when it set none."""
    return parse_sla_policy(text) if text else SlaPolicy()
