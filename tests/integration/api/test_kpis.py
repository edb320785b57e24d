"""GET /api/kpis and GET /api/timeseries over fact rows of a real, migrated PostgreSQL.

The figures are checked by hand for one hour of e1 (analytics_world.py) and, for every other
range, filter and attribution, against streams.contact_centre.figures over the very same sessions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from streams.contact_centre.attribution import Attribution
from streams.contact_centre.depth import queue_depth_trend
from streams.contact_centre.filters import Filter
from streams.contact_centre.percentiles import percentile_nearest_rank
from tests.support import analytics_world
from tests.support.analytics_world import RESPONSES, SESSIONS, World, at, expected, iso

pytestmark = pytest.mark.integration

world = analytics_world.world


def kpis_path(start: datetime, end: datetime, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"from": iso(start), "to": iso(end), **params}.items())
    return f"/api/kpis?{query}"


def figures_of(body: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in body.items() if k not in ("from", "to", "attribution", "queueDepthTrend")
    }


async def test_one_hour_by_hand(world: World) -> None:
    body = await world.get(kpis_path(at(0), at(60)), world.e1)

    assert body["from"] == "2025-03-10T10:00:00Z"
    assert body["to"] == "2025-03-10T11:00:00Z"
    assert body["attribution"] == "enqueue"
    assert figures_of(body) == {
        "offered": 10,
        "answered": 6,
        "abandoned": 2,
        "shortAbandoned": 1,
        "flowOut": 1,
        "blocked": 0,
        "asaSec": pytest.approx(190 / 6),
        "avgWaitSec": pytest.approx(280 / 8),
        # support T=20: s1 (15 s) and s6 (20 s); sales T=30: s9 (5 s); of 6 answered + 2 abandoned
        "slaPct": pytest.approx(3 / 8 * 100),
        "abandonRatePct": pytest.approx(2 / 9 * 100),
        # talk 120 + 300 + 60 + 200 + 100 of 5 handled, wrap-ups 30 + 20 + 45 + 10
        "ahtSec": pytest.approx((780 + 105) / 5),
        # 23 responses: the 22nd smallest
        "responseSec": 230.0,
    }


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (at(0), at(60)),  # aligned
        (at(7), at(50)),  # unaligned at both ends
        (at(7.5), at(14.9)),  # inside one quarter hour
        (at(-60), at(24 * 60)),  # the whole day
        (at(15), at(15.5)),
    ],
)
@pytest.mark.parametrize("attribution", list(Attribution))
async def test_any_range_is_streams_kpis_of_its_sessions(
    world: World, start: datetime, end: datetime, attribution: Attribution
) -> None:
    body = await world.get(kpis_path(start, end, attribution=attribution.value), world.e1)

    assert body["attribution"] == attribution.value
    assert figures_of(body) == pytest.approx(expected(start, end, attribution=attribution))


@pytest.mark.parametrize(
    "where",
    [
        Filter(queue_id="support"),
        Filter(queue_id="sales", channel="chat"),
        Filter(channel="voice"),
        Filter(channel="email"),
        Filter(agent_id="A1"),
        Filter(agent_id="A2", queue_id="sales"),
        Filter(queue_id="nowhere"),
    ],
)
@pytest.mark.parametrize(("start", "end"), [(at(0), at(60)), (at(3), at(45))])
async def test_filters_select_what_streams_kpis_filter_matches(
    world: World, where: Filter, start: datetime, end: datetime
) -> None:
    params = {k: v for k in ("queue_id", "channel", "agent_id") if (v := getattr(where, k))}

    body = await world.get(kpis_path(start, end, **params), world.e1)

    assert figures_of(body) == pytest.approx(expected(start, end, where=where))


async def test_an_agent_is_offered_only_what_it_answered(world: World) -> None:
    body = await world.get(kpis_path(at(0), at(60), agent_id="A1"), world.e1)

    # s1, s6, s11; talk 120 + 60 + 100 and wrap-ups 30 + 20 over 3 handled
    assert (body["offered"], body["answered"], body["abandoned"]) == (3, 3, 0)
    assert body["ahtSec"] == pytest.approx(330 / 3)


async def test_aligned_and_unaligned_bounds_agree_on_the_same_sessions(world: World) -> None:
    aligned = await world.get(kpis_path(at(0), at(60)), world.e1)
    # Nothing happens in e1 between 09:52 and 10:00, or between 11:00 and 11:03.
    unaligned = await world.get(kpis_path(at(-8), at(63)), world.e1)
    halves = [
        await world.get(kpis_path(at(0), at(7.5)), world.e1),
        await world.get(kpis_path(at(7.5), at(60)), world.e1),
    ]

    assert figures_of(unaligned) == figures_of(aligned)
    for count in ("offered", "answered", "abandoned", "shortAbandoned", "flowOut"):
        assert sum(h[count] for h in halves) == aligned[count]


async def test_completion_attribution_counts_a_session_where_its_outcome_was_decided(
    world: World,
) -> None:
    def offered(body: dict[str, Any]) -> int:
        return int(body["offered"])

    first = kpis_path(at(0), at(15))
    second = kpis_path(at(15), at(30))

    by_enqueue = [offered(await world.get(p, world.e1)) for p in (first, second)]
    by_completion = [
        offered(await world.get(p + "&attribution=completion", world.e1)) for p in (first, second)
    ]

    # s5 (enqueued 10:12, timed out 10:17) and s6 (10:14:50, answered 10:15:10) move over.
    assert by_enqueue == [6, 1]
    assert by_completion == [4, 3]


async def test_sla_threshold_override_changes_only_the_sla(world: World) -> None:
    default = await world.get(kpis_path(at(0), at(60)), world.e1)
    overridden = await world.get(kpis_path(at(0), at(60), sla_threshold_sec="30"), world.e1)

    # Within 30 s: s1 (15), s2 (25), s6 (20), s9 (5); not s7 (35), s11 (90).
    assert overridden["slaPct"] == pytest.approx(4 / 8 * 100)
    assert {k: v for k, v in overridden.items() if k != "slaPct"} == {
        k: v for k, v in default.items() if k != "slaPct"
    }
    # A wait of exactly T is within it: s2 waited 25 s.
    unaligned = await world.get(kpis_path(at(3), at(44), sla_threshold_sec="25"), world.e1)
    assert figures_of(unaligned) == pytest.approx(expected(at(3), at(44), sla_threshold_sec=25))
    assert unaligned["slaPct"] == pytest.approx(3 / 6 * 100)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (at(-600), at(840)),  # 2025-03-10, a whole day: its daily rows
        (at(-2040), at(2280)),  # three days
        (at(-593), at(833)),  # the day's whole hours, then quarter hours, then the edges
        (at(-45), at(75)),  # an hour and quarter hours
    ],
)
@pytest.mark.parametrize("threshold", ["5", "20", "25", "24.5", "90", "600", "601.0", "1e9"])
@pytest.mark.parametrize("attribution", list(Attribution))
async def test_whole_days_and_hours_and_any_threshold_are_streams_kpis(
    world: World, start: datetime, end: datetime, threshold: str, attribution: Attribution
) -> None:
    """The rollups answer as the quarter hours would, and an integer sla_threshold_sec up to
    600 s (the stored wait counts) as exactly as any other (the sessions)."""
    path = kpis_path(start, end, sla_threshold_sec=threshold, attribution=attribution.value)

    body = await world.get(path, world.e1)

    assert figures_of(body) == pytest.approx(
        expected(start, end, attribution=attribution, sla_threshold_sec=float(threshold))
    )


async def test_metrics_of_inputs_never_connected_are_null(world: World) -> None:
    nothing = await world.get(kpis_path(at(0), at(60)), world.e3)
    no_digital = await world.get(kpis_path(at(0), at(60)), world.e4)
    quiet_hour = await world.get(kpis_path(at(-120), at(-60)), world.e1)

    assert set(figures_of(nothing).values()) == {None}
    assert nothing["queueDepthTrend"] is None
    assert no_digital["offered"] == 1
    assert no_digital["responseSec"] is None
    # Connected but nothing happened: counts are 0, ratios without a denominator null.
    assert quiet_hour["offered"] == 0
    assert quiet_hour["asaSec"] is None
    assert quiet_hour["responseSec"] is None
    assert [s["waiting"] for s in quiet_hour["queueDepthTrend"]] == [0, 0, 0, 0]


async def test_a_token_sees_only_its_enterprises(world: World) -> None:
    quarter = kpis_path(at(0), at(15))

    e1 = await world.get(quarter, world.e1)
    both = await world.get(quarter, world.e1_e2)
    e2 = await world.get(quarter + "&enterprise_id=e2", world.e1_e2)
    refused = await world.get(quarter + "&enterprise_id=e2", world.e1, status=403)

    assert (e1["offered"], e2["offered"], both["offered"]) == (6, 2, 8)
    assert figures_of(both) == pytest.approx(expected(at(0), at(15), enterprises=("e1", "e2")))
    assert refused["error"]["code"] == "forbidden"
    # e2's response at 10:05 (33 s) never reaches e1's figures.
    assert e1["responseSec"] == expected(at(0), at(15))["responseSec"]


async def test_queue_depth_is_sampled_at_each_interval_start(world: World) -> None:
    body = await world.get(kpis_path(at(0), at(135)), world.e1)

    trend = body["queueDepthTrend"]
    e1_sessions = [s for s in SESSIONS if s.enterprise_id == "e1"]
    streams = queue_depth_trend(e1_sessions, at(0), at(135))
    assert [(s["ts"], s["waiting"], s["oldestWaitSec"]) for s in trend] == [
        (iso(d.ts), d.waiting, d.oldest_wait_sec) for d in streams
    ]
    # 10:15: s5 (since 10:12) and s6 (since 10:14:50); 11:00: s11; 12:00: s10, its exit lost.
    assert {s["ts"][11:16]: (s["waiting"], s["oldestWaitSec"]) for s in trend if s["waiting"]} == {
        "10:15": (2, 180.0),
        "11:00": (1, 60.0),
        "12:00": (1, 600.0),
    }


async def test_a_session_without_exit_stops_waiting_after_a_day(world: World) -> None:
    next_day = timedelta(days=1)
    body = await world.get(
        kpis_path(at(105) + next_day, at(135) + next_day, interval="15m"), world.e1
    )

    # s10 entered at 11:50 the day before: at 11:45 it had waited 23 h 55 min.
    assert [(s["ts"][11:16], s["waiting"]) for s in body["queueDepthTrend"]] == [
        ("11:45", 1),
        ("12:00", 0),
    ]
    assert body["queueDepthTrend"][0]["oldestWaitSec"] == 86100.0


async def test_depth_interval_defaults_by_range_and_skips_the_future(world: World) -> None:
    week = await world.get(kpis_path(at(0), at(0) + timedelta(days=7)), world.e1)
    month = await world.get(kpis_path(at(0), at(0) + timedelta(days=30)), world.e1)
    future = await world.get(
        "/api/kpis?from=2099-01-01T00:00:00Z&to=2099-01-02T00:00:00Z", world.e1
    )

    assert len(week["queueDepthTrend"]) == 7 * 24
    assert week["queueDepthTrend"][1]["ts"] == "2025-03-10T11:00:00Z"
    assert [s["ts"] for s in month["queueDepthTrend"][:2]] == [
        "2025-03-11T00:00:00Z",
        "2025-03-12T00:00:00Z",
    ]
    assert future["queueDepthTrend"] == []


# -- /api/timeseries --------------------------------------------------------------------------


def series_path(metric: str, interval: str, start: datetime, end: datetime, **params: str) -> str:
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    return (
        f"/api/timeseries?metric={metric}&interval={interval}&from={iso(start)}&to={iso(end)}"
        f"{extra}"
    )


async def test_a_series_has_one_value_per_bucket_each_of_its_bucket_alone(world: World) -> None:
    offered = await world.get(series_path("offered", "15m", at(0), at(60)), world.e1)
    sla = await world.get(series_path("slaPct", "30m", at(0), at(60)), world.e1)

    assert offered == [
        {"ts": "2025-03-10T10:00:00Z", "value": 6},
        {"ts": "2025-03-10T10:15:00Z", "value": 1},
        {"ts": "2025-03-10T10:30:00Z", "value": 2},
        {"ts": "2025-03-10T10:45:00Z", "value": 1},
    ]
    assert [p["value"] for p in sla] == [
        pytest.approx(expected(at(0), at(30))["slaPct"]),
        pytest.approx(expected(at(30), at(60))["slaPct"]),
    ]


@pytest.mark.parametrize("attribution", list(Attribution))
async def test_response_times_are_a_nearest_rank_p95_per_bucket(
    world: World, attribution: Attribution
) -> None:
    body = await world.get(
        series_path("responseSec", "15m", at(0), at(60), attribution=attribution.value), world.e1
    )

    def seconds_in(start: datetime) -> list[float]:
        return [
            r.seconds
            for r in RESPONSES
            if r.enterprise_id == "e1"
            and start
            <= (r.asked_at if attribution is Attribution.ENQUEUE else r.replied_at)
            < start + timedelta(minutes=15)
        ]

    assert [p["value"] for p in body] == [
        percentile_nearest_rank(seconds_in(at(m)), 95) for m in (0, 15, 30, 45)
    ]


async def test_queue_depth_series_and_nulls(world: World) -> None:
    depth = await world.get(series_path("queueDepth", "15m", at(0), at(30)), world.e1)
    unconnected = await world.get(series_path("ahtSec", "1h", at(0), at(120)), world.e3)
    future = await world.get(
        "/api/timeseries?metric=queueDepth&interval=1d&from=2099-01-01T00:00:00Z"
        "&to=2099-01-02T00:00:00Z",
        world.e1,
    )

    assert [p["value"] for p in depth] == [0, 2]
    assert [p["value"] for p in unconnected] == [None, None]
    assert future == [{"ts": "2099-01-01T00:00:00Z", "value": None}]


# -- bad requests -----------------------------------------------------------------------------

GOOD = "from=2025-03-10T10:00:00Z&to=2025-03-10T11:00:00Z"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("from=2025-03-10T10:00:00Z", "to"),
        ("from=yesterday&to=2025-03-10T11:00:00Z", "from"),
        ("from=2025-03-10T11:00:00Z&to=2025-03-10T11:00:00Z", "to"),
        ("from=2024-01-01T00:00:00Z&to=2025-03-10T00:00:00Z", "to"),
        ("from=9999-12-31T23:50:00Z&to=9999-12-31T23:59:00Z", "to"),
        (f"{GOOD}&attribution=arrival", "attribution"),
        (f"{GOOD}&sla_threshold_sec=0", "sla_threshold_sec"),
        (f"{GOOD}&sla_threshold_sec=-5", "sla_threshold_sec"),
        (f"{GOOD}&sla_threshold_sec=nan", "sla_threshold_sec"),
        (f"{GOOD}&sla_threshold_sec=twenty", "sla_threshold_sec"),
        (f"{GOOD}&interval=5m", "interval"),
        (f"{GOOD}&queue_id=", "queue_id"),
        (f"{GOOD}&queue_id=a&queue_id=b", "queue_id"),
        (f"{GOOD}&limit=5", "limit"),
    ],
)
async def test_bad_kpis_parameters_are_400_naming_the_parameter(
    world: World, query: str, parameter: str
) -> None:
    body = await world.get(f"/api/kpis?{query}", world.e1, status=400)

    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["parameter"] == parameter


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        (f"{GOOD}&interval=15m", "metric"),
        (f"{GOOD}&metric=queueDepthTrend&interval=15m", "metric"),
        (f"{GOOD}&metric=offered&interval=2h", "interval"),
        ("from=2025-03-10T10:00:00Z&to=2025-03-10T10:50:00Z&metric=offered&interval=30m", "to"),
        ("from=2025-03-10T10:05:00Z&to=2025-03-10T11:00:00Z&metric=offered&interval=15m", "from"),
    ],
)
async def test_bad_timeseries_parameters_are_400(world: World, query: str, parameter: str) -> None:
    body = await world.get(f"/api/timeseries?{query}", world.e1, status=400)

    assert body["error"]["parameter"] == parameter


async def test_no_token_is_401(world: World) -> None:
    response = await world.client.get(f"/api/kpis?{GOOD}")

    assert response.status == 401
