"""The queue figures of a range, per group: sums of the stored contributions, nothing else.

The whole quarter hours of the range come from the 15-minute interval tables, or from their
hourly and daily rollups where they cover whole hours and days (api/analytics/tiles.py). The
parts of a quarter hour at either end of an unaligned range are summed from the rows the
interval tables are themselves sums of (sinks/contact_centre/queue_intervals.py): the sessions'
`kpi_*` columns of fact_interaction_timing, by the instant the attribution names, and the
finished wrap-ups of fact_agent_state, whole where they started, under their queue ('' for none)
and channel voice.
So an aligned and an unaligned range agree on every session they both hold.

An agent filter or per-agent rows count the sessions that agent answered, offered = answered
(fact_agent_interval), and that agent's wrap-ups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

import asyncpg

from api.analytics.query import AnalyticsQuery, Grouping, Key
from api.analytics.sql import Params, group_key, matching, serial, session_filters
from api.analytics.tiles import tiles
from api.analytics.within_sla import counted_threshold, row_within, session_within
from streams.buckets import BASE_INTERVAL, INTERVALS, bucket_start
from streams.contact_centre.attribution import Attribution
from streams.contact_centre.figures import IntervalFigures

QUARTER = INTERVALS[BASE_INTERVAL]
# The additive figures, which the interval tables and the kpi_* columns name alike.
FIGURES = tuple(f.name for f in fields(IntervalFigures) if type(f.default) in (int, float))
SESSION_FIGURES = tuple(name for name in FIGURES if name != "wrapup_sec")
_KINDS: dict[str, type[int] | type[float]] = {
    f.name: int if isinstance(f.default, int) else float
    for f in fields(IntervalFigures)
    if f.name in FIGURES
}
WRAPUP_CHANNEL = "voice"
NO_QUEUE = ""

Window = tuple[datetime, datetime]


def split(start: datetime, end: datetime) -> tuple[Window | None, list[Window]]:
    """[start, end) as its whole quarter hours (None if there are none) and the rest."""
    core_start = bucket_start(start)
    if core_start < start:
        core_start += QUARTER
    core_end = bucket_start(end)
    if core_start >= core_end:
        return None, [(start, end)]
    edges = [w for w in ((start, core_start), (core_end, end)) if w[0] < w[1]]
    return (core_start, core_end), edges


async def queue_figures(
    conn: asyncpg.Connection, query: AnalyticsQuery, grouping: Grouping
) -> dict[Key, IntervalFigures]:
    """Session and wrap-up figures per group (flags and response samples left empty)."""
    core, edges = split(query.start, query.end)
    threshold = counted_threshold(query.sla_threshold_sec)
    parts = []
    if core is not None:
        async with serial(conn):
            parts.append(await _fetch(conn, *_interval_sql(query, grouping, core, threshold)))
    for window in edges:
        parts.append(await _fetch(conn, *_session_sql(query, grouping, window)))
        if query.where.channel in (None, WRAPUP_CHANNEL):
            parts.append(await _fetch(conn, *_wrapup_sql(query, grouping, window)))
    merged = merge(*parts)
    if query.sla_threshold_sec is not None and threshold is None:
        # Not answerable from the stored counts: every session of the range is judged again.
        sql, params = _within_sla_sql(query, grouping, query.sla_threshold_sec)
        counts = {r["key"]: r["within"] for r in await conn.fetch(sql, *params.values)}
        merged = {k: replace(f, answered_within_sla=counts.get(k, 0)) for k, f in merged.items()}
    return merged


def merge(*parts: Mapping[Key, IntervalFigures]) -> dict[Key, IntervalFigures]:
    merged: dict[Key, IntervalFigures] = {}
    for part in parts:
        for key, figures in part.items():
            merged[key] = merged[key].merge(figures) if key in merged else figures
    return merged


async def _fetch(conn: asyncpg.Connection, sql: str, params: Params) -> dict[Key, IntervalFigures]:
    rows = await conn.fetch(sql, *params.values)
    return {r["key"]: _figures(r) for r in rows}


def _figures(row: asyncpg.Record) -> IntervalFigures:
    values: dict[str, Any] = {k: _KINDS[k](v) for k, v in row.items() if k != "key"}
    return IntervalFigures(**values)


def _per_agent(query: AnalyticsQuery, grouping: Grouping) -> bool:
    return query.per_agent or grouping.per_agent


def _interval_sql(
    query: AnalyticsQuery, grouping: Grouping, window: Window, threshold: int | None
) -> tuple[str, Params]:
    """The rows of `window`'s tiles, each from its grain's table, summed per group; with a
    `threshold`, answered_within_sla counted against it."""
    per_agent = _per_agent(query, grouping)
    table = "fact_agent_interval" if per_agent else "fact_queue_interval"
    params = Params(list(query.enterprises), query.attribution.value)
    key = group_key(grouping, "bucket_start", params)
    wanted = matching(params, session_filters(query.where, agent=per_agent))
    columns = ", ".join(
        f"{row_within(params, threshold)} AS {name}"
        if threshold is not None and name == "answered_within_sla"
        else name
        for name in FIGURES
    )
    selects = "\nUNION ALL\n".join(
        f"""SELECT {key} AS key, {columns} FROM {table}{suffix}
WHERE enterprise_id = ANY($1::text[]) AND attribution = $2
    AND bucket_start >= {params(start)} AND bucket_start < {params(end)}{wanted}"""
        for suffix, (start, end) in tiles(window, grouping.step)
    )
    sums = ", ".join(f"sum({name}) AS {name}" for name in FIGURES)
    return f"SELECT key, {sums} FROM (\n{selects}\n) AS rows GROUP BY key", params


def _attributed_at(query: AnalyticsQuery) -> str:
    return "enqueued_at" if query.attribution is Attribution.ENQUEUE else "completed_at"


def _sessions_where(
    query: AnalyticsQuery, grouping: Grouping, window: Window, params: Params
) -> str:
    """The sessions attributed to `window` that the filters (and an agent's answer) select."""
    at = _attributed_at(query)
    start, end = params(window[0]), params(window[1])
    answered = (
        " AND kpi_answered = 1 AND agent_id IS NOT NULL" if _per_agent(query, grouping) else ""
    )
    wanted = matching(params, session_filters(query.where))
    return f"enterprise_id = ANY($1::text[]) AND {at} >= {start} AND {at} < {end}{answered}{wanted}"


def _session_sql(query: AnalyticsQuery, grouping: Grouping, window: Window) -> tuple[str, Params]:
    params = Params(list(query.enterprises))
    key = group_key(grouping, _attributed_at(query), params)
    where = _sessions_where(query, grouping, window, params)
    offered = "kpi_answered" if _per_agent(query, grouping) else "kpi_offered"
    columns = {name: f"kpi_{name}" for name in SESSION_FIGURES} | {"offered": offered}
    if query.sla_threshold_sec is not None:
        columns["answered_within_sla"] = session_within(params, query.sla_threshold_sec)
    sums = ", ".join(f"sum({column}) AS {name}" for name, column in columns.items())
    sql = f"SELECT {key} AS key, {sums} FROM fact_interaction_timing WHERE {where} GROUP BY 1"
    return sql, params


def _wrapup_sql(query: AnalyticsQuery, grouping: Grouping, window: Window) -> tuple[str, Params]:
    params = Params(list(query.enterprises), *window)
    queue = f"coalesce(queue_id, '{NO_QUEUE}')"
    by_queue = grouping.column == "queue_id"
    key = group_key(grouping, "started_at", params, column=queue if by_queue else "")
    wanted = matching(params, {queue: query.where.queue_id, "agent_id": query.where.agent_id})
    sql = f"""
SELECT {key} AS key, sum(seconds) AS wrapup_sec FROM fact_agent_state
WHERE enterprise_id = ANY($1::text[]) AND state = 'wrapup' AND seconds IS NOT NULL
    AND started_at >= $2 AND started_at < $3{wanted}
GROUP BY 1"""
    return sql, params


def _within_sla_sql(
    query: AnalyticsQuery, grouping: Grouping, threshold_sec: float
) -> tuple[str, Params]:
    """Sessions answered within `threshold_sec` (the sla_threshold_sec override), per group."""
    params = Params(list(query.enterprises))
    key = group_key(grouping, _attributed_at(query), params)
    where = _sessions_where(query, grouping, (query.start, query.end), params)
    threshold = params(threshold_sec)
    sql = f"""
SELECT {key} AS key, count(*) AS within FROM fact_interaction_timing
WHERE {where} AND kpi_answered = 1 AND coalesce(wait_sec, 0) <= {threshold}
GROUP BY 1"""
    return sql, params
