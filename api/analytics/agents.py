"""Agents' time per state and ring-no-answers over a range (the /api/operators extras).

Whole quarter hours come from fact_agent_state_interval, or its hourly and daily rollups where
they cover whole hours and days (api/analytics/tiles.py). The rest of an unaligned range is
computed as its writers compute a bucket (streams.telephony.agent_states.state_seconds, sinks/
agent_state_intervals.py): login, ready and not-ready time is the finished spans' overlap with
the window, a finished wrap-up counts whole where it started, and a ring-no-answer is a distinct
ring_no_answer queue event of the agent in the window. These figures are the agent's whatever
queue or channel is asked for: states belong to no queue.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields

import asyncpg

from api.analytics.figures import Window, split
from api.analytics.query import AnalyticsQuery
from api.analytics.sql import Params, matching, serial
from api.analytics.tiles import tiles


@dataclass(frozen=True, slots=True)
class AgentTime:
    login_sec: float = 0.0
    ready_sec: float = 0.0
    not_ready_sec: float = 0.0
    wrapup_sec: float = 0.0
    ring_no_answer: int = 0

    def merge(self, other: AgentTime) -> AgentTime:
        return AgentTime(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def to_json(self) -> dict[str, float | int]:
        return {
            "ringNoAnswer": self.ring_no_answer,
            "loginSec": self.login_sec,
            "readySec": self.ready_sec,
            "notReadySec": self.not_ready_sec,
            "wrapUpSec": self.wrapup_sec,
        }


_COLUMNS = tuple(f.name for f in fields(AgentTime))
_SUMS = ", ".join(f"sum({c}) AS {c}" for c in _COLUMNS)
_OVERLAP = (
    "coalesce(sum(extract(epoch FROM least(ended_at, $3) - greatest(started_at, $2))::float8)"
    " FILTER (WHERE state = '{state}'), 0)"
)
# Spans are found by the SP-GiST index on switchboard_span(); the enterprise goes into FILTER so
# that the btree on (enterprise_id, started_at), which would read every older span, is not used.
_STATE_SECONDS = f"""
SELECT agent_id, {_OVERLAP.format(state="login")} AS login_sec,
    {_OVERLAP.format(state="ready")} AS ready_sec,
    {_OVERLAP.format(state="not_ready")} AS not_ready_sec
FROM fact_agent_state
WHERE switchboard_span(started_at, ended_at) && tstzrange($2, $3) AND state <> 'wrapup'
    AND enterprise_id = ANY($1::text[]){{agent}}
GROUP BY agent_id"""
_WRAPUP_SECONDS = """
SELECT agent_id, sum(seconds) AS wrapup_sec FROM fact_agent_state
WHERE enterprise_id = ANY($1::text[]) AND state = 'wrapup' AND seconds IS NOT NULL
    AND started_at >= $2 AND started_at < $3{agent}
GROUP BY agent_id"""
_RING_NO_ANSWER = """
SELECT agent_id, count(DISTINCT event_key) AS ring_no_answer FROM queue_event
WHERE enterprise_id = ANY($1::text[]) AND event_type = 'ring_no_answer'
    AND agent_id IS NOT NULL AND occurred_at >= $2 AND occurred_at < $3{agent}
GROUP BY agent_id"""


async def agent_time(conn: asyncpg.Connection, query: AnalyticsQuery) -> dict[str, AgentTime]:
    """Per agent with any time or ring-no-answer in the range (the agent filter applies)."""
    core, edges = split(query.start, query.end)
    totals: dict[str, AgentTime] = defaultdict(AgentTime)
    statements = []
    if core is not None:
        statements.append(_interval_sql(query, core))
    for window in edges:
        statements.extend(
            _edge_sql(sql, query, window)
            for sql in (_STATE_SECONDS, _WRAPUP_SECONDS, _RING_NO_ANSWER)
        )
    async with serial(conn):
        for sql, params in statements:
            for row in await conn.fetch(sql, *params.values):
                found = {c: v for c, v in row.items() if c in _COLUMNS}
                totals[row["agent_id"]] = totals[row["agent_id"]].merge(AgentTime(**found))
    return dict(totals)


def _interval_sql(query: AnalyticsQuery, window: Window) -> tuple[str, Params]:
    """The rows of `window`'s tiles, each from its grain's table (api/analytics/tiles.py)."""
    params = Params(list(query.enterprises))
    agent = matching(params, {"agent_id": query.where.agent_id})
    selects = "\nUNION ALL\n".join(
        f"""SELECT agent_id, {", ".join(_COLUMNS)} FROM fact_agent_state_interval{suffix}
WHERE enterprise_id = ANY($1::text[]) AND bucket_start >= {params(start)}
    AND bucket_start < {params(end)}{agent}"""
        for suffix, (start, end) in tiles(window)
    )
    return f"SELECT agent_id, {_SUMS} FROM (\n{selects}\n) AS rows GROUP BY agent_id", params


def _edge_sql(template: str, query: AnalyticsQuery, window: Window) -> tuple[str, Params]:
    params = Params(list(query.enterprises), *window)
    return template.format(agent=matching(params, {"agent_id": query.where.agent_id})), params
