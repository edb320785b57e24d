"""Figures per group, whole: queue figures, the response p95 and the connected flags."""

from __future__ import annotations

from dataclasses import dataclass, replace

import asyncpg

from api.analytics.figures import queue_figures
from api.analytics.query import AnalyticsQuery, Grouping, Key
from api.analytics.responses import Connected, connected, response_p95
from streams.contact_centre.figures import IntervalFigures


@dataclass(frozen=True, slots=True)
class GroupedFigures:
    groups: dict[Key, IntervalFigures]
    connected: Connected

    def of(self, key: Key) -> IntervalFigures:
        """The group's figures; a group with nothing in it is empty, not missing."""
        found = self.groups.get(key)
        if found is not None:
            return found
        return IntervalFigures(
            queue_connected=self.connected.queue, digital_connected=self.connected.digital
        )


async def figures(
    conn: asyncpg.Connection,
    query: AnalyticsQuery,
    grouping: Grouping,
    *,
    queue: bool = True,
    digital: bool = True,
) -> GroupedFigures:
    """What `streams.contact_centre.figures.kpis` needs per group; `queue`/`digital` False skip that
    input.

    Percentiles do not add up, so the p95 is taken in SQL over the whole group and handed over
    as the group's only sample: the nearest-rank p95 of one value is that value.
    """
    flags = await connected(conn, query.enterprises)
    groups = await queue_figures(conn, query, grouping) if queue and flags.queue else {}
    p95 = await response_p95(conn, query, grouping) if digital and flags.digital else {}
    return GroupedFigures(
        groups={
            key: replace(
                groups.get(key, IntervalFigures()),
                queue_connected=flags.queue,
                digital_connected=flags.digital,
                response_samples=(p95[key],) if key in p95 else (),
            )
            for key in groups.keys() | p95.keys()
        },
        connected=flags,
    )
