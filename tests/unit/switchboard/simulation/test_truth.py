"""The simulator's ground truth: contract section 7's arithmetic on its own records, checked by
hand on a tiny centre, and against the stream's implementation (streams.contact_centre.figures) on a
whole day."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import pytest

from streams.contact_centre.attribution import bucket_figures
from streams.contact_centre.digital_messages import MessageEvent
from streams.contact_centre.figures import IntervalFigures, kpis, rollup, total
from streams.contact_centre.filters import Filter
from streams.contact_centre.percentiles import percentile_nearest_rank
from streams.contact_centre.queue_sessions import QueueSession, fold_sessions
from streams.contact_centre.responses import Response as StreamResponse
from streams.contact_centre.responses import fold_responses
from streams.telephony.queue import QueueEvent
from streams.telephony.wrapups import WrapUp as StreamWrapUp
from switchboard.simulation import SimEvent
from switchboard.simulation.contact_centre import CentreConfig, ContactCentre
from switchboard.simulation.contact_centre.ledger import (
    Ledger,
    Outcome,
    Response,
    Session,
    StateSpan,
    WrapUp,
)
from switchboard.simulation.contact_centre.truth import ground_truth, p95_sec

MIDNIGHT = datetime(2026, 11, 20, tzinfo=UTC)
SEC, MIN, HOUR = 1000, 60_000, 3_600_000


def session(
    queue: str,
    enqueued: int,
    wait: int,
    outcome: Outcome,
    *,
    agent: str | None = None,
    talk: int | None = None,
    sla: int = 20 * SEC,
    short: int = 5 * SEC,
) -> Session:
    return Session(
        enterprise_id="e1",
        call_id=f"call-{enqueued}",
        queue_id=queue,
        channel="voice",
        enqueued_ms=enqueued,
        sla_threshold_ms=sla,
        short_abandon_ms=short,
        outcome=outcome,
        exit_reason="exit_timeout" if outcome is Outcome.FLOW_OUT else None,
        exited_ms=enqueued + wait,
        agent_id=agent,
        talk_ms=talk,
    )


def tiny_centre() -> Ledger:
    """Five calls in two queues between 08:00 and 10:00, two wrap-ups, three chat replies."""
    at8, at9 = 8 * HOUR, 9 * HOUR
    ledger = Ledger("e1", queue_names={"q1": "Sales", "q2": "Support"}, agent_names={"a": "Ann"})
    ledger.sessions = [
        session("q1", at8 + 5 * MIN, 10 * SEC, Outcome.ANSWERED, agent="a", talk=100 * SEC),
        session("q1", at8 + 20 * MIN, 30 * SEC, Outcome.ANSWERED, agent="b", talk=200 * SEC),
        session("q1", at9 + 10 * MIN, 40 * SEC, Outcome.ABANDONED),
        session("q2", at9 + 30 * MIN, 3 * SEC, Outcome.SHORT_ABANDONED),
        session("q2", at9 + 40 * MIN, 180 * SEC, Outcome.FLOW_OUT),
    ]
    ledger.wrapups = [
        WrapUp("e1", "a", "q1", "voice", at8 + 7 * MIN, at8 + 7 * MIN + 20 * SEC),
        WrapUp("e1", "b", "q1", "voice", at8 + 24 * MIN, at8 + 24 * MIN + 40 * SEC),
    ]
    ledger.responses = [
        Response("e1", "c1", "chat", "q2", "a", at9 + n * MIN, at9 + n * MIN + wait * SEC)
        for n, wait in ((1, 10), (2, 30), (3, 20))
    ]
    ledger.spans = [
        StateSpan("e1", "a", "login", at8 - 10 * MIN, at9 + 50 * MIN),
        StateSpan("e1", "a", "ready", at8 - 9 * MIN, at8 + 7 * MIN),
        StateSpan("e1", "a", "wrapup", at8 + 7 * MIN, at8 + 7 * MIN + 20 * SEC),
        StateSpan("e1", "a", "not_ready", at9, at9 + 15 * MIN, "break"),
    ]
    return ledger


def test_the_kpis_of_a_tiny_centre_worked_out_by_hand() -> None:
    truth = ground_truth([tiny_centre()], MIDNIGHT, 0, 24 * HOUR)
    figures = truth["enterprises"]["e1"]["kpis"]

    assert truth["from"] == "2026-11-20T00:00:00Z" and truth["to"] == "2026-11-21T00:00:00Z"
    assert figures == {
        "offered": 5,
        "answered": 2,
        "abandoned": 1,  # the 3 s abandon is short (limit 5 s): counted apart
        "shortAbandoned": 1,
        "flowOut": 1,
        "blocked": 0,
        "asaSec": 20.0,  # (10 + 30) / 2
        "avgWaitSec": pytest.approx(80 / 3),  # (10 + 30 + 40) / 3
        "slaPct": pytest.approx(100 / 3),  # only the 10 s answer is within 20 s, of 3
        "abandonRatePct": 25.0,  # 1 / (5 - 1 short)
        "ahtSec": 180.0,  # (100 + 200 talk + 20 + 40 wrap-up) / 2 handled
        "responseSec": 30.0,  # nearest-rank p95 of 10, 30, 20
    }


def test_a_queues_row_counts_its_sessions_wrap_ups_and_replies() -> None:
    queues = ground_truth([tiny_centre()], MIDNIGHT, 0, 24 * HOUR)["enterprises"]["e1"]["queues"]

    assert list(queues) == ["q1", "q2"]
    assert queues["q1"]["name"] == "Sales"
    assert queues["q1"]["offered"] == 3 and queues["q1"]["ahtSec"] == 180.0
    assert queues["q1"]["abandonRatePct"] == pytest.approx(100 / 3)
    assert queues["q1"]["responseSec"] is None
    support = queues["q2"]
    assert (support["offered"], support["shortAbandoned"], support["flowOut"]) == (2, 1, 1)
    assert support["asaSec"] is support["slaPct"] is support["ahtSec"] is None
    assert support["abandonRatePct"] == 0.0 and support["responseSec"] == 30.0


def test_an_agents_row_counts_what_that_agent_answered_and_did() -> None:
    operators = ground_truth([tiny_centre()], MIDNIGHT, 0, 24 * HOUR)["enterprises"]["e1"][
        "operators"
    ]
    ann = operators["a"]

    assert list(operators) == ["a", "b"]
    assert ann["name"] == "Ann" and operators["b"]["name"] is None
    assert (ann["offered"], ann["answered"], ann["abandoned"]) == (1, 1, 0)
    assert ann["asaSec"] == 10.0 and ann["slaPct"] == 100.0 and ann["abandonRatePct"] == 0.0
    assert ann["ahtSec"] == 120.0  # her 100 s talk and 20 s wrap-up
    assert ann["talkSec"] == 100.0 and ann["wrapUpSec"] == 20.0
    assert ann["responseSec"] == 30.0
    assert ann["loginSec"] == 120 * 60.0
    assert ann["readySec"] == 16 * 60.0 and ann["notReadySec"] == 15 * 60.0
    assert ann["ringNoAnswer"] == 0


def test_each_hour_of_the_timeseries_holds_what_started_in_it() -> None:
    series = ground_truth([tiny_centre()], MIDNIGHT, 0, 24 * HOUR)["enterprises"]["e1"][
        "timeseries"
    ]["1h"]

    assert len(series) == 24 and series[8]["ts"] == "2026-11-20T08:00:00Z"
    eight, nine = series[8], series[9]
    assert (eight["offered"], eight["answered"], eight["ahtSec"]) == (2, 2, 180.0)
    assert eight["responseSec"] is None
    assert (nine["offered"], nine["abandoned"], nine["flowOut"]) == (3, 1, 1)
    assert nine["slaPct"] == 0.0 and nine["responseSec"] == 30.0
    # An hour without a call had none, once the tenant's queues are connected at all.
    assert series[3]["offered"] == 0 and series[3]["slaPct"] is None


def test_a_range_is_widened_to_whole_hours() -> None:
    start = datetime(2026, 11, 20, 14, 7, 33, 123000, tzinfo=UTC)
    truth = ground_truth([Ledger("e1")], start, 0, 50 * MIN)

    assert (truth["from"], truth["to"]) == ("2026-11-20T14:00:00Z", "2026-11-20T15:00:00Z")
    # No queue event was ever connected: counts are unknown, not zero.
    assert truth["enterprises"]["e1"]["kpis"]["offered"] is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [([7], 7), (list(range(1, 21)), 19), (list(range(1, 101)), 95), (list(range(1, 102)), 96)],
)
def test_p95_is_the_nearest_rank(values: list[int], expected: int) -> None:
    assert p95_sec(v * 1000 for v in reversed(values)) == expected
    assert percentile_nearest_rank(values, 95.0) == expected


# -- a whole day, read back the way the pipeline reads it ------------------------------------


@cache
def simulated_day() -> tuple[tuple[SimEvent, ...], dict[str, Any]]:
    centre = ContactCentre.day(
        date(2026, 11, 20), CentreConfig(calls_per_hour=40), seed=3, enterprises=("0367", "0412")
    )
    return tuple(centre.events()), centre.truth()


def stream_figures(
    events: tuple[SimEvent, ...],
) -> tuple[list[QueueSession], list[StreamWrapUp], tuple[StreamResponse, ...], dict[str, float]]:
    """Sessions, wrap-ups and responses as streams/ folds them from the published records."""
    queues = [r.record for r in events if r.topic == "reference.dimensions"]
    attributes = {r["id"]: r["attributes"] for r in queues if r["kind"] == "queue"}
    short = {q: float(a["short_abandon_sec"]) for q, a in attributes.items()}
    sla = {q: float(a["sla_threshold_sec"]) for q, a in attributes.items()}
    queue_events = [
        QueueEvent.from_record(e.record["event_id"], e.record)
        for e in events
        if e.topic == "telephony.queue"
    ]
    started: dict[str, dict[str, Any]] = {}
    wrapups = []
    for event in events:
        record = event.record
        if event.topic != "telephony.agents":
            continue
        if record["event_type"] == "wrapup_start":
            started[record["agent_id"]] = record
        elif record["event_type"] == "wrapup_end":
            begun = started.pop(record["agent_id"])
            wrapups.append(
                StreamWrapUp(
                    record["enterprise_id"],
                    record["agent_id"],
                    begun["occurred_at"],
                    (record["occurred_at"] - begun["occurred_at"]).total_seconds(),
                    begun["queue_id"],
                    "voice",
                )
            )
    messages = [
        MessageEvent.from_record(e.record["event_id"], e.record)
        for e in events
        if e.topic == "digital.messages"
    ]
    sessions = list(fold_sessions(queue_events, short_abandon_sec=short))
    return sessions, wrapups, fold_responses(messages), sla


def same(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """The KPI fields where the two disagree (floats to 1e-9)."""
    differ = []
    for name, value in actual.items():
        wanted = expected[name]
        if value is None or wanted is None:
            if value is not wanted:
                differ.append(name)
        elif not math.isclose(value, wanted, rel_tol=1e-9, abs_tol=1e-9):
            differ.append(name)
    return differ


def test_the_truth_agrees_with_the_streams_own_kpi_maths_on_a_whole_day() -> None:
    events, truth = simulated_day()
    sessions, wrapups, responses, sla = stream_figures(events)
    # As the API reads it: the tenant's queue events are connected, so every group's counts are
    # numbers, 0 where nothing happened.
    connected = IntervalFigures(queue_connected=True)

    def stream_kpis(where: Filter) -> dict[str, Any]:
        buckets = bucket_figures(
            sessions, wrapups=wrapups, responses=responses, sla_threshold_sec=sla, where=where
        )
        return kpis(connected.merge(total(buckets.values()))).to_json()

    def hourly(where: Filter) -> dict[datetime, dict[str, Any]]:
        buckets = bucket_figures(
            sessions, wrapups=wrapups, responses=responses, sla_threshold_sec=sla, where=where
        )
        rolled = rollup(buckets, "1h")
        return {ts: kpis(connected.merge(f)).to_json() for ts, f in rolled.items()}

    for enterprise, figures in truth["enterprises"].items():
        everything = Filter(enterprise_id=enterprise)
        assert same(figures["kpis"], stream_kpis(everything)) == []
        for queue_id, row in figures["queues"].items():
            where = Filter(enterprise_id=enterprise, queue_id=queue_id)
            assert same(row, stream_kpis(where)) == [], queue_id
        for agent_id, row in figures["operators"].items():
            where = Filter(enterprise_id=enterprise, agent_id=agent_id)
            assert same(row, stream_kpis(where)) == [], agent_id
        for channel, row in figures["channels"].items():
            where = Filter(enterprise_id=enterprise, channel=channel)
            assert same(row, stream_kpis(where)) == [], channel
        per_hour = hourly(everything)
        nothing = kpis(connected).to_json()
        for row in figures["timeseries"]["1h"]:
            at = datetime.fromisoformat(row["ts"].replace("Z", "+00:00"))
            assert same(row, per_hour.get(at, nothing)) == [], row["ts"]


def test_chat_and_email_rows_have_counts_of_zero_and_their_own_response_times() -> None:
    # /api/kpis: counts are null only when the tenant never had queue events at all.
    _, truth = simulated_day()
    channels = truth["enterprises"]["0367"]["channels"]

    assert set(channels) == {"voice", "chat", "email"}
    for name in ("chat", "email"):
        assert channels[name]["offered"] == 0 and channels[name]["asaSec"] is None
        assert channels[name]["responseSec"] > 0
    assert channels["email"]["responseSec"] > channels["chat"]["responseSec"]
    assert channels["voice"]["responseSec"] is None


def test_agent_times_are_what_the_agents_topic_says() -> None:
    events, truth = simulated_day()
    # Folded the plain way: each state from its event to the agent's next state change.
    seconds: dict[tuple[str, str], float] = defaultdict(float)
    current: dict[str, tuple[str, datetime]] = {}
    logged_in: dict[str, datetime] = {}
    for event in events:
        if event.topic != "telephony.agents":
            continue
        record = event.record
        agent, kind, at = record["agent_id"], record["event_type"], record["occurred_at"]
        if kind == "login":
            logged_in[agent] = at
            continue
        if kind in ("ready", "not_ready", "wrapup_start", "wrapup_end", "logout"):
            if agent in current:
                state, since = current.pop(agent)
                seconds[agent, state] += (at - since).total_seconds()
            if kind in ("ready", "not_ready", "wrapup_start"):
                current[agent] = ("wrapup" if kind == "wrapup_start" else kind, at)
        if kind == "logout":
            seconds[agent, "login"] += (at - logged_in.pop(agent)).total_seconds()
    for enterprise in truth["enterprises"].values():
        for agent, row in enterprise["operators"].items():
            assert row["loginSec"] == pytest.approx(seconds[agent, "login"])
            assert row["readySec"] == pytest.approx(seconds[agent, "ready"])
            assert row["notReadySec"] == pytest.approx(seconds[agent, "not_ready"])
            assert row["wrapUpSec"] == pytest.approx(seconds[agent, "wrapup"])
            assert row["readySec"] + row["notReadySec"] + row["wrapUpSec"] <= row["loginSec"]


def test_the_truth_counts_every_event_and_interaction_it_published() -> None:
    events, truth = simulated_day()
    for enterprise, figures in truth["enterprises"].items():
        mine = [e for e in events if e.record["enterprise_id"] == enterprise]
        counted: dict[str, int] = defaultdict(int)
        for event in mine:
            counted[event.topic] += 1
        assert figures["events"] == dict(sorted(counted.items()))
        starts = sum(
            e.topic == "telephony.calls" and e.record["event_type"] == "start" for e in mine
        )
        assert figures["interactions"]["calls"] == starts
        assert sum(figures["outcomes"].values()) == counted["crm.outcomes"]
