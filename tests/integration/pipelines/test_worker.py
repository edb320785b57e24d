"""The worker end to end: real broker, real registry, real PostgreSQL, a real subprocess."""

from __future__ import annotations

import pytest

from schemas.codec import TopicCodec
from schemas.topics import TELEPHONY_CALLS, TELEPHONY_QUEUE
from tests.support.clock import CALLS_T0 as T0
from tests.support.consume import consume_errors
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, publish_raw, registry, wait_until
from tests.support.traffic import call_events, shuffled_with_duplicates

pytestmark = pytest.mark.integration


async def test_shuffled_duplicated_calls_become_exactly_their_rows(pipeline: Pipeline) -> None:
    await publish(
        pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, shuffled_with_duplicates(40)
    )
    pipeline.start_worker()

    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM call_events") == 160,
        what="160 call events",
    )
    assert pipeline.scalar("SELECT count(*) FROM calls") == 40
    assert pipeline.scalar("SELECT count(*) FROM call_participants") == 80
    assert (
        pipeline.scalar("""SELECT count(*) FROM calls WHERE call_status = 'answered'
            AND duration = 65 AND main_extension = '151' AND extensions_count = 2""")
        == 40
    )
    assert (
        pipeline.scalar("SELECT count(DISTINCT (call_id, event_sequence)) FROM call_events") == 160
    )


async def test_a_download_of_a_live_call_changes_nothing(pipeline: Pipeline) -> None:
    pipeline.start_worker()
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, call_events("live-1"))
    wait_until(lambda: pipeline.scalar("SELECT count(*) FROM call_events") == 4)
    snapshot = "SELECT calls::text FROM calls WHERE unique_id = 'live-1'"
    before = pipeline.rows(snapshot)

    downloaded = call_events("live-1", data_source="downloaded")
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, downloaded)
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, call_events("marker"))
    wait_until(lambda: pipeline.scalar("SELECT count(*) FROM calls") == 2)
    assert pipeline.rows(snapshot) == before
    assert pipeline.scalar("SELECT count(*) FROM call_events") == 8
    assert pipeline.scalar("SELECT count(*) FROM call_events WHERE data_source <> 'live'") == 0


async def test_bad_messages_go_to_error_events_and_the_stream_goes_on(pipeline: Pipeline) -> None:
    invalid = {**call_events("bad-1")[0], "enterprise_id": ""}
    codec = TopicCodec(TELEPHONY_CALLS, registry(pipeline.registry_url))
    await codec.register()
    bad = [
        ("k1", b"not avro at all"),
        ("k2", b"\x00\x00\x0f\x42\x3f" + b"\x02"),  # a schema id nobody registered
        ("bad-1", codec.encode(invalid)),
    ]
    publish_raw(pipeline.bootstrap, TELEPHONY_CALLS.name, bad)
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, call_events("good-1"))
    pipeline.start_worker()

    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM calls") == 1,
        what="the good call after the bad ones",
    )
    errors = {e["key"]: e for e in await consume_errors(pipeline, expected=3)}
    assert errors[b"k1"]["stage"] == "decode"
    assert "magic byte" in errors[b"k1"]["error"]
    assert errors[b"k2"]["error"] == "schema id 999999 is not registered"
    assert errors[b"bad-1"]["stage"] == "validate"
    assert errors[b"bad-1"]["error"] == "enterprise_id must not be empty"
    for original_key, original_value in bad:
        error = errors[original_key.encode()]
        assert error["value"] == original_value
        assert error["topic"] == TELEPHONY_CALLS.name
        assert 0 <= error["partition"] < 6 and error["offset"] >= 0


async def test_queue_events_are_stored_once(pipeline: Pipeline) -> None:
    queue = [
        {
            "event_id": f"q{i}",
            "source_system": "asterisk",
            "occurred_at": T0,
            "enterprise_id": "0367",
            "call_id": "c1",
            "queue_id": "sales",
            "event_type": kind,
            "wait_sec": 12.5 if kind == "connect" else None,
        }
        for i, kind in enumerate(["enqueue", "connect", "complete_caller"])
    ]
    await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_QUEUE, queue + queue[:2])
    # T0 is a fixed day: it must not become a late event as the calendar moves on.
    pipeline.start_worker(late_grace_sec=str(100 * 365 * 24 * 3600))
    wait_until(lambda: pipeline.scalar("SELECT count(*) FROM queue_event") == 3)
    assert pipeline.scalar("SELECT count(*) FROM queue_event WHERE wait_sec = 12.5") == 1
