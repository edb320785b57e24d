"""The master deals' funnel: how many deals are now in each stage, and how many of them have
an SLA breach, over the deals GET /masterdeal lists for the same filters.

A breach is judged as of the request from each SLA target's stored deadline and the time it was
met (`streams.masterdeal.sla.SlaTarget.breached`), the one predicate GET /masterdeal filters
`breached` by, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from api.analytics.sql import Params
from streams.masterdeal.stages import STAGES, Stage

# A deal (alias `d`) with a target breached as of {now}: SlaTarget.breached, in SQL.
BREACHED_AT = """EXISTS (SELECT 1 FROM jsonb_array_elements(d.sla_targets) AS t
    WHERE coalesce((t->>'met_at')::timestamptz, {now}) > (t->>'deadline')::timestamptz)"""


@dataclass(frozen=True, slots=True)
class StageCount:
    stage: Stage
    deals: int = 0
    breached: int = 0


@dataclass(frozen=True, slots=True)
class Funnel:
    stages: tuple[StageCount, ...]

    @property
    def deals(self) -> int:
        return sum(s.deals for s in self.stages)

    @property
    def breached(self) -> int:
        return sum(s.breached for s in self.stages)


def funnel_of(counts: Mapping[str, StageCount]) -> Funnel:
    """Every stage in the contract's order, a stage without deals as zeros."""
    return Funnel(tuple(counts.get(stage, StageCount(stage)) for stage in STAGES))


async def deal_funnel(
    conn: asyncpg.Connection,
    enterprises: list[str],
    *,
    changed_from: datetime | None,
    changed_to: datetime | None,
    now: datetime,
) -> Funnel:
    """The deals of `enterprises` whose last change is in [changed_from, changed_to) (a missing
    bound: unbounded), per stage, breaches as of `now`. One range scan of
    idx_master_deal_tenant_recent per enterprise."""
    params = Params(enterprises)
    breached = BREACHED_AT.format(now=params(now))
    where = ["d.enterprise_id = ANY($1::text[])"]
    if changed_from is not None:
        where.append(f"d.last_event_at >= {params(changed_from)}")
    if changed_to is not None:
        where.append(f"d.last_event_at < {params(changed_to)}")
    sql = f"""
SELECT d.stage, count(*) AS deals, count(*) FILTER (WHERE {breached}) AS breached
FROM master_deal d WHERE {" AND ".join(where)}
GROUP BY d.stage"""
    rows = await conn.fetch(sql, *params.values)
    return funnel_of({r["stage"]: StageCount(r["stage"], r["deals"], r["breached"]) for r in rows})
