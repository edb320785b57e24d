"""The deal generator: seeded master deals across the six domains, well-formed in business order,
untidy on purpose, and folding to the stage each deal was planned to end in."""

from __future__ import annotations

import io
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache

import fastavro
import pytest

from schemas.topics import topic
from schemas.validate import validation_error
from streams.masterdeal.domain_status import status_event_type
from streams.masterdeal.events import DealEvent
from streams.masterdeal.fold import DealState, fold_deal
from streams.masterdeal.sla_policy import SlaPolicy
from streams.masterdeal.stages import STAGES, highest_stage
from switchboard.simulation import SimEvent, Timeline
from switchboard.simulation.deals import (
    DAY,
    DEFAULT_DAY_SEC,
    DOMAIN_TOPICS,
    DealAnomalies,
    DealPlan,
    DealScenario,
)

START = datetime(2025, 6, 4, 9, 0, tzinfo=UTC)
TIDY = DealAnomalies(duplicate=0, late_delivery=0, created_late=0, stalled=0, abandoned=0)
SEEDS = (42, 1, 2024)
SLA = SlaPolicy()


def scenario(seed: int, anomalies: DealAnomalies | None = None) -> DealScenario:
    return DealScenario(random.Random(seed), START, 0.05, anomalies=anomalies or DealAnomalies())


def simulate(seed: int = 42, *, until: float = 4000.0, start: datetime = START) -> list[SimEvent]:
    rng = random.Random(seed)
    return list(Timeline(rng, [DealScenario(rng, start, 0.05)], until=until))


@cache
def default_stream(seed: int = 42) -> tuple[SimEvent, ...]:
    return tuple(simulate(seed))


def planned(seed: int, count: int = 300, anomalies: DealAnomalies | None = None) -> list[DealPlan]:
    deals = scenario(seed, anomalies)
    return [deals.plan() for _ in range(count)]


def by_deal(events: Iterable[SimEvent]) -> dict[str, list[SimEvent]]:
    deals: dict[str, list[SimEvent]] = defaultdict(list)
    for event in events:
        deals[event.key].append(event)
    return deals


def fold(events: Iterable[SimEvent], now: datetime) -> DealState:
    return fold_deal((DealEvent.from_record(e.record) for e in events), sla=SLA, now=now)


def delivered_at(event: SimEvent) -> datetime:
    """The wall-clock moment a day-compressed event reaches the broker, at speed 1."""
    return START + timedelta(seconds=event.due)


def test_the_same_seed_gives_the_same_stream() -> None:
    assert simulate(7, until=1000) == simulate(7, until=1000)
    assert simulate(7, until=1000) != simulate(8, until=1000)


def test_a_later_start_shifts_the_times_and_nothing_else() -> None:
    early, late = simulate(7, until=1000), simulate(7, until=1000, start=START + timedelta(days=1))

    assert [e.due for e in early] == [e.due for e in late]
    for a, b in zip(early, late, strict=True):
        assert b.record["occurred_at"] - a.record["occurred_at"] == timedelta(days=1)
        assert a.record["event_id"] == b.record["event_id"]


@pytest.mark.parametrize("seed", SEEDS)
def test_every_record_is_valid_on_its_domains_topic_and_keyed_by_deal_id(seed: int) -> None:
    stream = default_stream(seed)
    assert {e.topic for e in stream} == set(DOMAIN_TOPICS.values())
    for event in stream:
        schema = fastavro.parse_schema(topic(event.topic).schema)
        fastavro.schemaless_writer(io.BytesIO(), schema, event.record, strict=True)
        assert validation_error(topic(event.topic), event.record) is None
        assert event.key == event.record["deal_id"] == topic(event.topic).key_of(event.record)
        domain = event.record["event_type"].split(".")[0]
        assert event.topic == DOMAIN_TOPICS[domain]
        assert event.record["occurred_at"].microsecond % 1000 == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_domain_statuses_are_the_ones_reconciliation_recognises(seed: int) -> None:
    for event in default_stream(seed):
        record = event.record
        domain = record["event_type"].split(".")[0]
        expected = None if domain == "tasktracker" else record["event_type"]
        assert status_event_type(domain, record["domain_status"]) == expected


def test_the_stream_is_delivered_in_due_order_and_no_event_happens_after_its_delivery() -> None:
    stream = default_stream()
    assert [e.due for e in stream] == sorted(e.due for e in stream)
    for event in stream:
        assert event.record["occurred_at"] <= delivered_at(event)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_deal_is_one_chain_created_once_and_reaches_its_stages_in_order(seed: int) -> None:
    for deal_id, events in by_deal(default_stream(seed)).items():
        distinct = {e.record["event_id"]: e.record for e in events}.values()
        assert Counter(r["event_type"] for r in distinct)["crm.deal.created"] == 1
        assert len({e.record["correlation_id"] for e in events}) == 1, deal_id
        in_business_order = sorted(distinct, key=lambda r: r["occurred_at"])
        assert in_business_order[0]["event_type"] == "crm.deal.created"
        seen: set[str] = set()
        reached = []
        for record in in_business_order:
            seen.add(record["event_type"])
            stage = highest_stage(seen)
            if stage is not None and (not reached or stage != reached[-1]):
                reached.append(stage)
        # No stage is skipped: the pipeline is walked one stage at a time.
        assert reached == list(STAGES[: len(reached)]), deal_id


def test_event_ids_are_unique_except_for_duplicates_which_are_exact_copies() -> None:
    stream = default_stream()
    by_id: dict[str, list[SimEvent]] = defaultdict(list)
    for event in stream:
        by_id[event.record["event_id"]].append(event)
    duplicated = [copies for copies in by_id.values() if len(copies) > 1]
    assert duplicated, "the default anomalies duplicate some events"
    for copies in duplicated:
        assert len(copies) == 2
        assert copies[0].record == copies[1].record
        assert copies[0].due != copies[1].due


def test_some_events_are_delivered_out_of_business_order() -> None:
    creations_late = legal_first = 0
    for events in by_deal(default_stream()).values():
        delivered = [e.record["event_type"] for e in sorted(events, key=lambda e: e.due)]
        creations_late += delivered[0] != "crm.deal.created"
        if "docflow.contract.signed" in delivered and "legal.approved" in delivered:
            legal_first += delivered.index("legal.approved") < delivered.index(
                "docflow.contract.signed"
            )
    assert creations_late and legal_first


def test_a_tidy_deal_is_delivered_in_business_order() -> None:
    rng = random.Random(3)
    stream = list(Timeline(rng, [DealScenario(rng, START, 0.05, anomalies=TIDY)], until=4000))
    for events in by_deal(stream).values():
        times = [e.record["occurred_at"] for e in events]
        assert times == sorted(times)
        assert len({e.record["event_id"] for e in events}) == len(events)


@pytest.mark.parametrize("seed", SEEDS)
def test_each_deal_folds_to_the_stage_it_was_planned_to_end_in(seed: int) -> None:
    deals = scenario(seed)
    for n in range(200):
        plan = deals.plan()
        events = deals.render(plan, at=n * 10.0)
        last_delivery = max(delivered_at(e) for e in events)
        state = fold(reversed(events), now=last_delivery)

        assert state.stage == plan.final_stage, plan
        assert state.deal_id == plan.deal_id
        assert state.correlation_id == plan.correlation_id


def test_tidy_deals_close_within_the_default_sla() -> None:
    deals = scenario(5, TIDY)
    for n in range(200):
        events = deals.render(deals.plan(), at=n * 10.0)
        state = fold(events, now=max(delivered_at(e) for e in events))
        assert state.stage == "closed"
        assert state.breaches == ()


def test_stalled_deals_breach_the_stage_they_stalled_in() -> None:
    plans = [p for p in planned(11) if p.stalled_in is not None]
    assert plans
    deals = scenario(12)
    for plan in plans:
        events = deals.render(plan, at=0.0)
        state = fold(events, now=max(delivered_at(e) for e in events))
        assert plan.stalled_in in {b.target for b in state.breaches}, plan
    # Some stalls are long enough to overrun the whole deal as well.
    overruns = [fold(deals.render(p, 0.0), now=START + timedelta(days=400)).breaches for p in plans]
    assert any("deal" in {b.target for b in breaches} for breaches in overruns)


def test_abandoned_deals_never_close_and_have_already_overrun_their_last_stage() -> None:
    plans = [p for p in planned(13) if p.final_stage != "closed"]
    assert plans and len({p.final_stage for p in plans}) > 2
    deals = scenario(14)
    for plan in plans:
        events = deals.render(plan, at=0.0)
        # As of its last delivery the deal is open, and past the limit of the stage it is in.
        state = fold(events, now=max(delivered_at(e) for e in events))
        assert state.closed_at is None
        assert plan.final_stage in {b.target for b in state.breaches}, plan


def test_the_rates_of_untidiness_are_the_configured_ones() -> None:
    plans = planned(21, count=2000)
    abandoned = sum(p.final_stage != "closed" for p in plans) / len(plans)
    stalled = sum(p.stalled_in is not None for p in plans) / len(plans)
    assert 0.07 < abandoned < 0.13
    # Only deals that leave a stage can stall in one.
    assert 0.05 < stalled < 0.10


def test_a_deals_business_days_are_compressed_for_delivery() -> None:
    deals = scenario(9, TIDY)
    plan = deals.plan()
    events = deals.render(plan, at=100.0)
    first, last = events[0], events[-1]
    business = (last.record["occurred_at"] - first.record["occurred_at"]).total_seconds()
    assert business > DAY  # a closed deal takes days
    assert last.due - first.due == pytest.approx(business / DAY * DEFAULT_DAY_SEC, abs=0.01)
    assert first.due == 100.0
