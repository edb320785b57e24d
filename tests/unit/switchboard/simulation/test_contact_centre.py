"""The contact-centre simulation: a seeded day of queues, agents, chats and e-mails whose events
are well-formed, consistent with each other, and repeatable to the byte."""

from __future__ import annotations

import io
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import fastavro
import pytest

from schemas.topics import topic
from schemas.validate import validation_error
from switchboard.simulation import SimEvent
from switchboard.simulation.contact_centre import CentreConfig, ContactCentre

DAY = date(2026, 11, 20)
MIDNIGHT = datetime(2026, 11, 20, tzinfo=UTC)
SMALL = CentreConfig(calls_per_hour=20)  # about 3,000 events a day per tenant
# Few agents for the traffic: every way of leaving a queue happens.
STRETCHED = CentreConfig(calls_per_hour=20, agents=3)
OUTCOMES = {"connect", "abandon", "exit_timeout", "exit_empty", "exit_key"}
ENDINGS = {"complete_caller", "complete_agent", "transfer"}


@cache
def day(
    seed: int = 2, config: CentreConfig = SMALL, enterprises: tuple[str, ...] = ("0367", "0412")
) -> tuple[tuple[SimEvent, ...], ContactCentre]:
    centre = ContactCentre.day(DAY, config, seed=seed, enterprises=enterprises)
    return tuple(centre.events()), centre


def events_of(name: str, events: Iterable[SimEvent]) -> list[dict[str, Any]]:
    return [e.record for e in events if e.topic == name]


def stays(events: Iterable[SimEvent]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Queue events per (call_id, queue_id), in time order: one session each, since a call
    never comes back to a queue it left."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in events_of("telephony.queue", events):
        grouped[record["call_id"], record["queue_id"]].append(record)
    return grouped


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def test_the_same_seed_gives_the_same_stream_and_the_same_truth() -> None:
    first = ContactCentre.day(DAY, SMALL, seed=11, enterprises=("0367",))
    again = ContactCentre.day(DAY, SMALL, seed=11, enterprises=("0367",))
    other = ContactCentre.day(DAY, SMALL, seed=12, enterprises=("0367",))

    a, b, c = list(first.events()), list(again.events()), list(other.events())

    assert a == b  # same order, same event ids, same everything
    assert json.dumps(first.truth()) == json.dumps(again.truth())
    assert [e.record for e in a] != [e.record for e in c]
    assert not {e.record["event_id"] for e in a} & {e.record["event_id"] for e in c}


def test_a_small_day_is_a_few_thousand_events_and_scales_with_the_traffic() -> None:
    small = len(day(enterprises=("0367",))[0])
    busier = ContactCentre.day(DAY, CentreConfig(calls_per_hour=60), seed=2, enterprises=("0367",))
    larger = sum(1 for _ in busier.events())

    assert 2000 <= small <= 5000
    assert 2.5 * small < larger < 3.5 * small


def test_each_tenants_centre_is_the_same_whatever_the_others_do() -> None:
    alone, _ = day(enterprises=("0412",))
    together, _ = day(enterprises=("0412", "0367"))

    assert [e for e in together if e.record["enterprise_id"] == "0412"] == list(alone)


@pytest.mark.parametrize("seed", [2, 5])
def test_every_record_is_valid_on_its_topic_and_keyed_by_its_key(seed: int) -> None:
    events, _ = day(seed)
    for event in events:
        schema = fastavro.parse_schema(topic(event.topic).schema)
        fastavro.schemaless_writer(io.BytesIO(), schema, event.record, strict=True)
        assert validation_error(topic(event.topic), event.record) is None
        assert event.key == topic(event.topic).key_of(event.record)
        assert event.record["enterprise_id"] in ("0367", "0412")
        # Whole milliseconds, as Avro's timestamp-millis keeps them.
        assert event.record["occurred_at"].microsecond % 1000 == 0
    assert len({e.record["event_id"] for e in events}) == len(events)


def test_the_stream_is_delivered_in_time_order_as_it_happens() -> None:
    events, _ = day()
    assert [e.due for e in events] == sorted(e.due for e in events)
    for event in events:
        assert event.record["occurred_at"] == MIDNIGHT + timedelta(seconds=event.due)


def test_the_day_opens_at_eight_and_everything_ends_before_midnight() -> None:
    events, _ = day()
    starts = [
        r["occurred_at"] for r in events_of("telephony.calls", events) if r["event_type"] == "start"
    ]
    conversations = {
        r["conversation_id"]: r["occurred_at"]
        for r in reversed(events_of("digital.messages", events))
    }
    arrivals = starts + list(conversations.values())

    assert MIDNIGHT + timedelta(hours=8) <= min(arrivals)
    assert max(arrivals) < MIDNIGHT + timedelta(hours=20)
    assert max(e.record["occurred_at"] for e in events) < MIDNIGHT + timedelta(hours=23)
    # The dictionaries are valid from midnight, before anything refers to them.
    assert {e.record["occurred_at"] for e in events if e.topic == "reference.dimensions"} == {
        MIDNIGHT
    }


@pytest.mark.parametrize("seed", [2, 5])
def test_every_session_has_exactly_one_outcome(seed: int) -> None:
    events, _ = day(seed)
    for (call_id, queue_id), session in stays(events).items():
        types = [r["event_type"] for r in session]
        assert types[0] == "enqueue" and types.count("enqueue") == 1, (call_id, queue_id)
        outcomes = [t for t in types if t in OUTCOMES]
        assert len(outcomes) == 1, (call_id, types)
        decided = types.index(outcomes[0])
        assert set(types[1:decided]) <= {"ring_no_answer"}, types
        if outcomes[0] == "connect":
            assert len(types) == decided + 2 and types[-1] in ENDINGS, types
            assert session[-1]["agent_id"] == session[decided]["agent_id"]
        else:
            assert len(types) == decided + 1, types


def test_every_way_of_leaving_a_queue_happens() -> None:
    events, _ = day(2, STRETCHED)
    kinds = Counter(r["event_type"] for r in events_of("telephony.queue", events))
    assert set(kinds) == OUTCOMES | ENDINGS | {"enqueue", "ring_no_answer"}
    assert kinds["connect"] > 10 * kinds["exit_empty"]


@pytest.mark.parametrize("seed", [2, 5])
def test_waits_and_talks_are_exactly_the_millisecond_timestamps(seed: int) -> None:
    events, _ = day(seed)
    answered = 0
    for session in stays(events).values():
        enqueued = session[0]["occurred_at"]
        exit_event = next(r for r in session if r["event_type"] in OUTCOMES)
        assert exit_event["wait_sec"] == seconds(exit_event["occurred_at"], enqueued)
        if exit_event["event_type"] == "connect":
            answered += 1
            ending = session[-1]
            assert ending["wait_sec"] == exit_event["wait_sec"]
            assert ending["talk_sec"] == seconds(ending["occurred_at"], exit_event["occurred_at"])
            assert 1 <= exit_event["ring_sec"] < 15
            assert exit_event["agent_id"] and ending["agent_id"] == exit_event["agent_id"]
        else:
            assert exit_event["agent_id"] is None and exit_event["talk_sec"] is None
    assert answered > 300


def test_short_abandons_are_within_the_queues_own_limit() -> None:
    events, centre = day(2, STRETCHED)
    limits = {
        r["id"]: float(r["attributes"]["short_abandon_sec"])
        for r in events_of("reference.dimensions", events)
        if r["kind"] == "queue"
    }
    abandons = [r for r in events_of("telephony.queue", events) if r["event_type"] == "abandon"]
    short = sum(r["wait_sec"] <= limits[r["queue_id"]] for r in abandons)
    figures = centre.truth()["enterprises"]
    assert short == sum(e["kpis"]["shortAbandoned"] for e in figures.values()) > 0
    assert len(abandons) - short == sum(e["kpis"]["abandoned"] for e in figures.values()) > 0


def test_a_transfer_ends_the_answered_session_and_starts_a_new_one_elsewhere() -> None:
    events, centre = day()
    queue_events = events_of("telephony.queue", events)
    transfers = [r for r in queue_events if r["event_type"] == "transfer"]
    assert transfers
    for transfer in transfers:
        onward = [
            r
            for r in queue_events
            if r["call_id"] == transfer["call_id"]
            and r["event_type"] == "enqueue"
            and r["occurred_at"] == transfer["occurred_at"]
        ]
        assert len(onward) == 1 and onward[0]["queue_id"] != transfer["queue_id"]
        assert transfer["talk_sec"] > 0
    # Each stay is a session of its own: offered counts both.
    offered = sum(e["kpis"]["offered"] for e in centre.truth()["enterprises"].values())
    assert offered == sum(r["event_type"] == "enqueue" for r in queue_events)


def test_agents_log_in_work_their_states_and_log_out() -> None:
    events, _ = day()
    per_agent: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in events_of("telephony.agents", events):
        per_agent[record["agent_id"]].append(record)
    reasons: Counter[str] = Counter()
    for agent_id, history in per_agent.items():
        types = [r["event_type"] for r in history]
        assert types[0] == "login" and types[-1] == "logout", agent_id
        assert types.count("login") == types.count("logout") == 1, agent_id
        for earlier, later in itertools.pairwise(history):
            if earlier["event_type"] == "wrapup_start":
                assert later["event_type"] == "wrapup_end", agent_id
                assert later["queue_id"] == earlier["queue_id"] is not None
            if later["event_type"] == "wrapup_end":
                assert earlier["event_type"] == "wrapup_start"
        reasons.update(r["reason"] for r in history if r["event_type"] == "not_ready")
    assert {"break", "lunch", "ring_no_answer"} <= set(reasons)


def test_every_handled_call_is_followed_by_its_agents_wrap_up() -> None:
    events, _ = day()
    wrapups = {
        (r["agent_id"], r["occurred_at"], r["queue_id"])
        for r in events_of("telephony.agents", events)
        if r["event_type"] == "wrapup_start"
    }
    endings = [r for r in events_of("telephony.queue", events) if r["event_type"] in ENDINGS]
    assert {(r["agent_id"], r["occurred_at"], r["queue_id"]) for r in endings} == wrapups
    assert len(endings) == len(wrapups)


def test_calls_are_answered_only_by_ready_agents_and_a_missed_ring_pauses_the_agent() -> None:
    events, _ = day(2, STRETCHED)
    state: dict[str, str] = {}
    for event in events:
        record = event.record
        if event.topic == "telephony.agents":
            state[record["agent_id"]] = record["event_type"]
        elif event.topic == "telephony.queue" and record["event_type"] == "connect":
            assert state[record["agent_id"]] == "ready", record
    missed = [
        r for r in events_of("telephony.queue", events) if r["event_type"] == "ring_no_answer"
    ]
    pauses = {
        (r["agent_id"], r["occurred_at"])
        for r in events_of("telephony.agents", events)
        if r["event_type"] == "not_ready" and r["reason"] == "ring_no_answer"
    }
    assert missed and {(r["agent_id"], r["occurred_at"]) for r in missed} == pauses
    assert {r["ring_sec"] for r in missed} == {15.0}


def test_the_calls_topic_tells_each_call_from_start_to_hangup() -> None:
    events, _ = day()
    calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in events_of("telephony.calls", events):
        calls[record["call_id"]].append(record)
    queued = {call_id for call_id, _ in stays(events)}
    assert queued <= set(calls)
    for call_id, history in calls.items():
        types = [r["event_type"] for r in history]
        assert types[0] == "start" and types[-1] == "hangup" and types.count("hangup") == 1
        assert {r["call_type"] for r in history} == {"incoming"}
        bridged = "bridge" in types
        assert (history[-1]["call_status"] == "answered") == bridged, call_id
        assert history[-1]["extensions"] == [
            r["extension"] for r in history if r["event_type"] == "dial"
        ]
        assert json.loads(history[0]["raw"])["UniqueId"] == call_id


def test_chats_and_emails_are_answered_by_logged_in_agents() -> None:
    events, _ = day()
    messages = events_of("digital.messages", events)
    on_shift: dict[str, tuple[datetime, datetime]] = {}
    for record in events_of("telephony.agents", events):
        login, logout = on_shift.get(record["agent_id"], (record["occurred_at"],) * 2)
        on_shift[record["agent_id"]] = (login, max(logout, record["occurred_at"]))
    assert Counter(m["channel"] for m in messages).keys() == {"chat", "email"}
    assert Counter(m["sender"] for m in messages).keys() == {"customer", "agent", "bot", "system"}
    for message in messages:
        assert message["queue_id"]
        assert message["direction"] == (
            "inbound" if message["sender"] == "customer" else "outbound"
        )
        assert (message["agent_id"] is not None) == (message["sender"] == "agent")
        if message["agent_id"]:
            login, logout = on_shift[message["agent_id"]]
            assert login <= message["occurred_at"] <= logout
    assert len({m["message_id"] for m in messages}) == len(messages)


def test_crm_outcomes_name_real_interactions_and_topics() -> None:
    events, _ = day()
    outcomes = events_of("crm.outcomes", events)
    dimensions = events_of("reference.dimensions", events)
    topics = {r["id"] for r in dimensions if r["kind"] == "topic"}
    calls = {
        r["call_id"] for r in events_of("telephony.queue", events) if r["event_type"] == "connect"
    }
    conversations = {m["conversation_id"] for m in events_of("digital.messages", events)}
    assert {bool(r["call_id"]) for r in outcomes} == {True, False}
    for record in outcomes:
        assert record["call_id"] in calls or record["conversation_id"] in conversations
        assert record["topic_id"] in topics
        assert -1 <= record["sentiment"] <= 1
        assert record["source_system"] == "crm"


def test_the_dictionaries_describe_every_queue_and_agent_the_events_name() -> None:
    events, _ = day()
    dimensions = events_of("reference.dimensions", events)
    by_kind: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in dimensions:
        by_kind[row["kind"]][row["id"]] = row
    assert set(by_kind) == {"agent", "department", "queue", "channel", "topic"}
    for row in by_kind["queue"].values():
        assert row["source_system"] == "routing"
        assert float(row["attributes"]["sla_threshold_sec"]) > 0
        assert float(row["attributes"]["short_abandon_sec"]) > 0
        assert row["parent_id"] in by_kind["department"]
    assert {r["source_system"] for r in by_kind["agent"].values()} == {"hr"}
    queue_events = events_of("telephony.queue", events)
    assert {r["queue_id"] for r in queue_events} <= set(by_kind["queue"])
    assert {r["agent_id"] for r in queue_events if r["agent_id"]} <= set(by_kind["agent"])
    assert {r["agent_id"] for r in events_of("telephony.agents", events)} <= set(by_kind["agent"])
    assert {"voice", "chat", "email"} == set(by_kind["channel"])


def test_a_live_centre_opens_at_its_start_and_stopping_it_drains_the_work_in_hand() -> None:
    start = datetime(2026, 11, 20, 14, 3, 7, 123456, tzinfo=UTC)
    centre = ContactCentre.live(
        start, 3600, CentreConfig(calls_per_hour=300), seed=4, enterprises=("0367",)
    )
    events = []
    for event in centre.events():
        events.append(event)
        if event.due > 600 and not centre.draining:
            centre.stop_arrivals()
    assert centre.draining
    first = min(e.record["occurred_at"] for e in events)
    assert first == start.replace(microsecond=123000)
    starts = [
        e.due for e in events if e.topic == "telephony.calls" and e.record["event_type"] == "start"
    ]
    assert len(starts) > 20 and max(starts) <= 601
    for session in stays(events).values():  # every session in flight still ended
        assert any(r["event_type"] in OUTCOMES for r in session)
    agents = Counter(r["event_type"] for r in events_of("telephony.agents", events))
    assert agents["login"] == agents["logout"] > 0
