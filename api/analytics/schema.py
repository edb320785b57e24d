"""OpenAPI pieces of the analytics routes (api/openapi.py puts them in its PATHS)."""

from __future__ import annotations

from typing import Any

from api.analytics.params import ATTRIBUTIONS, MAX_RANGE
from api.routes.kpis import KPI_FIELDS, METRICS
from streams.kpis import INTERVALS

Schema = dict[str, Any]

_TIME = {"type": "string", "format": "date-time"}
_COUNT = {"type": ["integer", "null"], "minimum": 0}
_FLOAT = {"type": ["number", "null"]}
_COUNTS = {"offered", "answered", "abandoned", "shortAbandoned", "flowOut", "blocked"}
_DESCRIPTIONS = {
    "offered": "Sessions that tried to enter: entered plus blocked (attributed to the range).",
    "answered": "Sessions answered.",
    "abandoned": "Sessions abandoned after short_abandon_sec.",
    "shortAbandoned": "Sessions abandoned within short_abandon_sec (queue's, default 10 s).",
    "flowOut": "Sessions that left by timeout, empty queue, key press or transfer.",
    "blocked": "Sessions refused entry (queue_log JOINEMPTY, JOINUNAVAIL, FULL): counted in"
    " offered and in no other denominator.",
    "asaSec": "Σ wait of answered ÷ answered.",
    "avgWaitSec": "Σ wait of answered and abandoned ÷ (answered + abandoned).",
    "slaPct": "Answered with wait ≤ T ÷ (answered + abandoned) * 100.",
    "abandonRatePct": "Abandoned ÷ (offered - short abandoned - blocked) * 100.",
    "ahtSec": "(talk + wrap-up) ÷ handled.",
    "responseSec": "Digital: nearest-rank p95 of customer message → next agent reply.",
}


def _query(name: str, description: str, schema: Schema, *, required: bool = False) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


RANGE_PARAMETERS: list[Schema] = [
    _query(
        "from",
        "Start of the range, inclusive (ISO 8601; no offset means UTC). Default: the start"
        " of the current UTC day (of the day `to` falls in, if that is earlier).",
        _TIME,
    ),
    _query(
        "to",
        f"End of the range, exclusive; at most {MAX_RANGE.days} days after `from`. Default:"
        " the end of the current UTC day (of the day of `from`, if that is later).",
        _TIME,
    ),
    {
        "name": "enterprise_id",
        "in": "query",
        "required": False,
        "description": "Repeatable. Default: every enterprise of the token; any other is 403.",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    },
    _query("queue_id", "Only this queue's sessions, wrap-ups and responses.", {"type": "string"}),
    _query("channel", "Only this channel (wrap-ups are voice).", {"type": "string"}),
    _query(
        "agent_id",
        "Only the sessions this agent answered (offered = answered), its wrap-ups and replies.",
        {"type": "string"},
    ),
    _query(
        "attribution",
        "Count a session at its enqueue (Asterisk tools) or at the event that completed it"
        " (Genesys); a response at the customer's message or at the reply.",
        {"type": "string", "enum": list(ATTRIBUTIONS), "default": ATTRIBUTIONS[0]},
    ),
    _query(
        "sla_threshold_sec",
        "Overrides every queue's SLA threshold T, for slaPct only.",
        {"type": "number", "exclusiveMinimum": 0},
    ),
]
_INTERVAL = {"type": "string", "enum": list(INTERVALS)}
KPIS_PARAMETERS = [
    *RANGE_PARAMETERS,
    _query(
        "interval",
        "Sampling of queueDepthTrend. Default 15m for a range of a day or less, 1h up to 7"
        " days, else 1d.",
        _INTERVAL,
    ),
]
TIMESERIES_PARAMETERS = [
    *RANGE_PARAMETERS,
    _query("metric", "The metric.", {"type": "string", "enum": list(METRICS)}, required=True),
    _query(
        "interval",
        "Bucket length; `from` and `to` must be aligned to it (UTC). Default as /api/kpis.",
        _INTERVAL,
    ),
]


def _kpis() -> dict[str, Schema]:
    return {
        name: {**(_COUNT if name in _COUNTS else _FLOAT), "description": _DESCRIPTIONS[name]}
        for name in KPI_FIELDS
    }


def _object(properties: dict[str, Schema]) -> Schema:
    return {"type": "object", "properties": properties, "required": list(properties)}


_NULL_NOTE = (
    " Counts and ratios are null when no queue events were ever connected for the enterprises;"
    " a ratio is null when its denominator is 0; responseSec is null without digital responses."
)
DEPTH_SAMPLE: Schema = _object(
    {
        "ts": _TIME,
        "waiting": {"type": "integer", "description": "Sessions waiting at ts."},
        "oldestWaitSec": {**_FLOAT, "description": "How long the longest of them had waited."},
    }
)
KPIS_SCHEMA: Schema = {
    **_object(
        {
            "from": _TIME,
            "to": _TIME,
            "attribution": {"type": "string", "enum": list(ATTRIBUTIONS)},
            **_kpis(),
            "queueDepthTrend": {
                "type": ["array", "null"],
                "items": DEPTH_SAMPLE,
                "description": "At each interval start in the range, not after now. Sessions"
                " without an exit for a day are lost events, not waiting.",
            },
        }
    ),
    "description": "Contract section 7." + _NULL_NOTE,
}
TIMESERIES_SCHEMA: Schema = {
    "type": "array",
    "items": _object({"ts": _TIME, "value": {"type": ["number", "null"]}}),
    "description": "One entry per bucket start in [from, to): the metric of that bucket alone.",
}
QUEUES_SCHEMA: Schema = _object(
    {
        "queues": {
            "type": "array",
            "description": "Queues with a session in the range, by queueId.",
            "items": _object(
                {
                    "queueId": {"type": "string"},
                    "name": {"type": ["string", "null"], "description": "dim_queue's current."},
                    **_kpis(),
                }
            ),
        }
    }
)
OPERATORS_SCHEMA: Schema = _object(
    {
        "operators": {
            "type": "array",
            "description": "Agents active in the range, by agentId; each row counts the"
            " sessions the agent answered (offered = answered).",
            "items": _object(
                {
                    "agentId": {"type": "string"},
                    "name": {"type": ["string", "null"], "description": "dim_agent's current."},
                    **_kpis(),
                    "talkSec": {"type": "number", "description": "Talk of handled sessions."},
                    "ringNoAnswer": {"type": "integer"},
                    "loginSec": {"type": "number"},
                    "readySec": {"type": "number"},
                    "notReadySec": {"type": "number"},
                    "wrapUpSec": {"type": "number"},
                }
            ),
        }
    }
)
