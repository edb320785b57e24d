"""`switchboard simulate` as users run it: every event of the seeded stream reaches the broker,
decodable, through the built-in registry, and every call and deal in flight is finished; a
simulated contact-centre day arrives whole, as fast as the broker takes it, with its truth."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer

from schemas.codec import TopicCodec
from schemas.topics import DOMAIN_TOPICS, TELEPHONY_CALLS, TELEPHONY_QUEUE, Topic, topic
from switchboard.broker import consumer_config
from switchboard.simulation.contact_centre import CentreConfig, ContactCentre
from switchboard.simulation.runner import SimulationOptions, build_timeline
from tests.support.stack import registry as stack_registry

pytestmark = pytest.mark.integration


def shape(topic_name: str, record: dict[str, Any]) -> tuple[str, str, str]:
    return topic_name, record["event_type"], record.get("data_source", "-")


def simulate(
    options: SimulationOptions,
    broker: str,
    registry_url: str,
    home: Path,
    *extra: str,
) -> subprocess.CompletedProcess[str]:
    flags = ["--duration", str(options.duration), "--rate", str(options.rate)]
    flags += ["--seed", str(options.seed), "--deal-rate", str(options.deals_per_second)]
    flags += ["--speed", str(options.speed)]
    for enterprise in options.enterprises:
        flags += ["--enterprise", enterprise]
    for scenario in options.scenarios:
        flags += ["--scenario", scenario]
    if options.day:
        flags += ["--day", options.day.isoformat()]
    if options.centre:
        flags += ["--queues", str(options.centre.queues)]
        flags += ["--calls-per-hour", str(options.centre.calls_per_hour)]
        if options.centre.agents:
            flags += ["--agents", str(options.centre.agents)]
    return subprocess.run(
        [sys.executable, "-m", "switchboard", "simulate", *flags, *extra],
        env={
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker,
            "SCHEMA_REGISTRY_URL": registry_url,
            "SWITCHBOARD_HOME": str(home),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def consume_enterprise(
    broker: str,
    registry_url: str,
    enterprise: str,
    expected: int,
    topics: tuple[Topic, ...] = (TELEPHONY_CALLS, TELEPHONY_QUEUE, *DOMAIN_TOPICS),
) -> list[tuple[str, dict[str, Any]]]:
    """(topic, decoded value) of one tenant's events: by default its calls, and its deals on the
    six domain topics (their deal_ids carry the tenant)."""
    registry = stack_registry(registry_url)
    codecs = {t.name: TopicCodec(t, registry) for t in topics}
    consumer = Consumer(consumer_config(broker, f"test-simulate-{uuid.uuid4().hex[:8]}"))
    consumer.subscribe([t.name for t in topics])
    found: list[tuple[str, dict[str, Any]]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    try:
        while len(found) < expected and loop.time() < deadline:
            message = await asyncio.to_thread(consumer.poll, 0.5)
            if message is None or message.error():
                continue
            codec = codecs[message.topic()]
            await codec.fetch_writers([message.value()])
            record = codec.decode(message.value())
            if _tenant(record) == enterprise:
                found.append((message.topic(), record))
    finally:
        await asyncio.to_thread(consumer.close)
    return found


def _tenant(record: dict[str, Any]) -> str:
    if "enterprise_id" in record:
        return str(record["enterprise_id"])
    return str(record["deal_id"]).rsplit("-D", 1)[0]


async def test_simulate_publishes_the_whole_seeded_stream(
    broker: str, registry_url: str, tmp_path: Path
) -> None:
    # A tenant of its own tells this run's events from everything else on the shared topics.
    enterprise = f"t{uuid.uuid4().hex[:6]}"
    options = SimulationOptions(
        duration=3,
        rate=4,
        seed=20250604,
        enterprises=(enterprise,),
        deal_rate=2,
        scenarios=("calls", "deals"),
        # As fast as possible: the run is placed so that it ends now, calls in flight included.
        speed=0,
    )
    timeline, _ = build_timeline(options, datetime.now(UTC))
    expected = Counter(shape(e.topic, e.record) for e in timeline)

    result = await asyncio.to_thread(simulate, options, broker, registry_url, tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"seed {options.seed}" in result.stderr
    assert "0 failed" in result.stderr
    published = await consume_enterprise(broker, registry_url, enterprise, sum(expected.values()))
    assert Counter(shape(name, record) for name, record in published) == expected
    for name, record in published:
        assert topic(name).key_of(record) == record.get("call_id", record.get("deal_id"))
    # The run stopped arrivals after 3 s and still finished every call it had started.
    started = {
        r["call_id"] for n, r in published if n == "telephony.calls" and r["event_type"] == "start"
    }
    ended = {
        r["call_id"] for n, r in published if n == "telephony.calls" and r["event_type"] == "hangup"
    }
    assert started and started == ended
    # Its deals went out whole, creation included, their days of history compressed to seconds.
    deals = {r["deal_id"] for n, r in published if r["event_type"] == "crm.deal.created"}
    assert deals and deals == {r["deal_id"] for n, r in published if "deal_id" in r}
    # Nothing is dated ahead of the wall clock: the worker would refuse it.
    assert max(r["occurred_at"] for _, r in published) <= datetime.now(UTC)


async def test_simulate_a_contact_centre_day_as_fast_as_possible(
    broker: str, registry_url: str, tmp_path: Path
) -> None:
    enterprise = f"t{uuid.uuid4().hex[:6]}"
    options = SimulationOptions(
        duration=60,
        rate=20,
        seed=7,
        enterprises=(enterprise,),
        speed=0,
        scenarios=("contact-centre",),
        day=date(2026, 11, 20),
        centre=CentreConfig(queues=2, calls_per_hour=15),
    )
    # A simulated day does not depend on when it runs: the same records, ids and all.
    timeline, sources = build_timeline(options, options.start_time(datetime.now(UTC)))
    expected = sorted(((e.topic, e.record) for e in timeline), key=lambda e: e[1]["event_id"])
    (centre,) = sources
    assert isinstance(centre, ContactCentre)
    truth_file = tmp_path / "truth.json"

    result = await asyncio.to_thread(
        simulate, options, broker, registry_url, tmp_path, "--expected", str(truth_file)
    )

    assert result.returncode == 0, result.stderr
    assert "as fast as possible" in result.stderr and "0 failed" in result.stderr
    assert json.loads(truth_file.read_text()) == json.loads(json.dumps(centre.truth()))
    published = await consume_enterprise(
        broker,
        registry_url,
        enterprise,
        len(expected),
        tuple(topic(name) for name in ContactCentre.topics),
    )
    assert sorted(published, key=lambda e: e[1]["event_id"]) == expected
    counts = Counter(name for name, _ in published)
    assert counts == json.loads(truth_file.read_text())["enterprises"][enterprise]["events"]
    assert 1500 < len(published) < 5000
