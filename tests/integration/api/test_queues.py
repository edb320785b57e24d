"""GET /api/queues and GET /api/operators over the fact rows of analytics_world.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streams.contact_centre.filters import Filter
from tests.support import analytics_world
from tests.support.analytics_world import World, at, expected, iso

pytestmark = pytest.mark.integration

world = analytics_world.world

_EXTRAS = ("talkSec", "ringNoAnswer", "loginSec", "readySec", "notReadySec", "wrapUpSec")


def path(route: str, start: datetime, end: datetime, extra: str = "") -> str:
    return f"/api/{route}?from={iso(start)}&to={iso(end)}{extra}"


def kpis_of(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("queueId", "agentId", "name", *_EXTRAS)}


@pytest.mark.parametrize(("start", "end"), [(at(0), at(60)), (at(4), at(33))])
async def test_a_row_per_queue_with_its_own_kpis(
    world: World, start: datetime, end: datetime
) -> None:
    body = await world.get(path("queues", start, end), world.e1)

    rows = {row["queueId"]: row for row in body["queues"]}
    assert list(rows) == ["sales", "support"]
    for queue, row in rows.items():
        assert kpis_of(row) == pytest.approx(expected(start, end, where=Filter(queue_id=queue)))


async def test_queue_names_are_the_enterprise_version_else_the_global_one(world: World) -> None:
    body = await world.get(path("queues", at(0), at(60)), world.e1)

    # e1 has its own name for support; sales has only the global one (e2's is not e1's).
    assert [(q["queueId"], q["name"]) for q in body["queues"]] == [
        ("sales", "Sales"),
        ("support", "Support line"),
    ]


async def test_only_queues_with_a_session_in_the_range_are_listed(world: World) -> None:
    # 10:45-11:00 holds s11 (support) only; a queue-less wrap-up makes no '' row either.
    late = await world.get(path("queues", at(45), at(60)), world.e1)
    early = await world.get(path("queues", at(15), at(30)), world.e1)

    assert [q["queueId"] for q in late["queues"]] == ["support"]
    assert "" not in [q["queueId"] for q in early["queues"]]


async def test_queue_rows_are_scoped_to_the_token(world: World) -> None:
    e1 = await world.get(path("queues", at(0), at(15)), world.e1)
    e2 = await world.get(path("queues", at(0), at(15), "&enterprise_id=e2"), world.e1_e2)
    nothing = await world.get(path("queues", at(0), at(60)), world.e3)

    assert [(q["queueId"], q["offered"]) for q in e1["queues"]] == [("support", 6)]
    assert [(q["queueId"], q["offered"]) for q in e2["queues"]] == [("support", 2)]
    assert nothing == {"queues": []}
    await world.get(path("queues", at(0), at(15), "&enterprise_id=e2"), world.e1, status=403)


async def test_an_operator_row_counts_what_that_agent_answered(world: World) -> None:
    body = await world.get(path("operators", at(0), at(60)), world.e1)

    rows = {row["agentId"]: row for row in body["operators"]}
    assert list(rows) == ["A1", "A2", "A3"]
    for agent, row in rows.items():
        assert kpis_of(row) == pytest.approx(expected(at(0), at(60), where=Filter(agent_id=agent)))
        assert row["offered"] == row["answered"]
    a1 = rows["A1"]
    # s1, s6, s11: talk 120 + 60 + 100; wrap-ups 30 + 20 (the open one counts nowhere)
    assert a1["talkSec"] == 280.0
    assert a1["ahtSec"] == pytest.approx((280 + 50) / 3)


async def test_operator_time_by_state_over_an_aligned_range(world: World) -> None:
    body = await world.get(path("operators", at(0), at(60)), world.e1)

    extras = {row["agentId"]: [row[k] for k in _EXTRAS] for row in body["operators"]}
    # talk, ring-no-answers, login, ready, not ready, wrap-up (whole where it started)
    assert extras == {
        "A1": [280.0, 0, 3600.0, 75.0, 450.0, 50.0],
        "A2": [500.0, 1, 0.0, 0.0, 0.0, 55.0],  # logged in, not out yet: no length
        "A3": [0.0, 1, 1500.0, 0.0, 0.0, 0.0],
    }


async def test_operator_time_over_an_unaligned_range_is_the_overlap(world: World) -> None:
    body = await world.get(path("operators", at(0.5), at(50)), world.e1)

    extras = {row["agentId"]: [row[k] for k in _EXTRAS[1:]] for row in body["operators"]}
    assert extras == {
        "A1": [0, 49.5 * 60, 45.0, 450.0, 50.0],
        "A2": [1, 0.0, 0.0, 0.0, 55.0],
        "A3": [1, 15 * 60.0, 0.0, 0.0, 0.0],
    }


async def test_operator_names_and_scope(world: World) -> None:
    e1 = await world.get(path("operators", at(0), at(60)), world.e1)
    e2 = await world.get(path("operators", at(0), at(60), "&enterprise_id=e2"), world.e1_e2)

    # A1's current name (not the old version), A2's enterprise row, none of e2's for A3.
    assert [(o["agentId"], o["name"]) for o in e1["operators"]] == [
        ("A1", "Anna"),
        ("A2", "Boris"),
        ("A3", None),
    ]
    assert [(o["agentId"], o["offered"], o["loginSec"]) for o in e2["operators"]] == [
        ("B1", 1, 1800.0)
    ]


async def test_a_queue_filter_lists_the_agents_active_in_that_queue(world: World) -> None:
    body = await world.get(path("operators", at(0), at(60), "&queue_id=sales"), world.e1)

    rows = {row["agentId"]: row for row in body["operators"]}
    # A2 answered s7 and wrapped up in sales; A3 answered s9 and replied to sales chats.
    assert list(rows) == ["A2", "A3"]
    assert rows["A2"]["wrapUpSec"] == 55.0  # state time is the agent's, whatever the queue
    for agent, row in rows.items():
        assert kpis_of(row) == pytest.approx(
            expected(at(0), at(60), where=Filter(agent_id=agent, queue_id="sales"))
        )


@pytest.mark.parametrize("route", ["queues", "operators"])
async def test_bad_parameters_are_400(world: World, route: str) -> None:
    inverted = f"from={iso(at(60))}&to={iso(at(0))}"
    body = await world.get(f"/api/{route}?{inverted}", world.e1, status=400)
    unknown = await world.get(f"{path(route, at(0), at(60))}&interval=1h", world.e1, status=400)

    assert body["error"]["parameter"] == "to"
    assert unknown["error"]["parameter"] == "interval"


@pytest.mark.parametrize(
    "route", ["kpis", "queues", "operators", "timeseries?metric=offered&interval=1h"]
)
async def test_no_range_means_the_current_utc_day(world: World, route: str) -> None:
    """Contract 6: a newcomer's first request names no range."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    body = await world.get(f"/api/{route}", world.e1)

    if route == "kpis":
        assert (body["from"], body["to"]) == (iso(today), iso(today + timedelta(days=1)))
    only_from = await world.get(f"/api/kpis?from={iso(at(0))}", world.e1, status=400)
    assert only_from["error"]["parameter"] == "to"  # 2025 to the end of today: over 400 days
    only_to = await world.get(f"/api/kpis?to={iso(at(60))}", world.e1)
    assert (only_to["from"], only_to["to"]) == (iso(at(60).replace(hour=0)), iso(at(60)))


@pytest.mark.parametrize(("start", "end"), [(at(-600), at(840)), (at(-2040), at(2280))])
async def test_whole_days_list_what_their_quarter_hours_hold(
    world: World, start: datetime, end: datetime
) -> None:
    """Whole days come from the daily rollups: the same rows, KPIs and agent time as a range
    just inside the day, which is summed from quarter hours and the edges' own rows."""
    queues = await world.get(path("queues", start, end), world.e1)
    operators = await world.get(path("operators", start, end), world.e1)
    inside = await world.get(path("operators", start + timedelta(seconds=30), end), world.e1)

    for row in queues["queues"]:
        where = Filter(queue_id=row["queueId"])
        assert kpis_of(row) == pytest.approx(expected(start, end, where=where))
    for row in operators["operators"]:
        where = Filter(agent_id=row["agentId"])
        assert kpis_of(row) == pytest.approx(expected(start, end, where=where))
    assert [q["queueId"] for q in queues["queues"]] == ["sales", "support"]
    assert [r["agentId"] for r in operators["operators"]] == [
        r["agentId"] for r in inside["operators"]
    ]
    for day_row, inside_row in zip(operators["operators"], inside["operators"], strict=True):
        assert kpis_of(day_row) == pytest.approx(kpis_of(inside_row))
        assert [day_row[k] for k in _EXTRAS] == pytest.approx([inside_row[k] for k in _EXTRAS])
