"""`switchboard import mongo-calls`: a generated mongoexport through broker, worker and PostgreSQL.

Some of its calls were seen live first: those keep their rows. The validation report's figures
are checked exactly, and a second run changes no row.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.mongo_export import Export, generate
from schemas.topics import TELEPHONY_CALLS
from tests.support.paths import DATA
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until

pytestmark = pytest.mark.integration

CALLS = 1000
LIVE_EVERY = 20  # every 20th call of the export was seen live first: 50 calls
SENTINELS = 120  # enough keys to land on every partition of telephony.calls
TIMEOUT_SEC = 240


def run_import(
    pipeline: Pipeline, file: Path, *extra: str, as_json: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": pipeline.bootstrap,
        "SCHEMA_REGISTRY_URL": pipeline.registry_url,
        "DATABASE_URL": pipeline.database_url,
    }
    command = ["import", "mongo-calls", str(file), "--wait-sec", str(TIMEOUT_SEC), *extra]
    if as_json:
        command.append("--json")
    return subprocess.run(
        [sys.executable, "-m", "switchboard", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SEC + 120,
    )


def live_call(unique_id: str, start: datetime, talk_sec: int) -> list[dict[str, Any]]:
    common = {
        "source_system": "asterisk",
        "enterprise_id": "0367",
        "call_id": unique_id,
        "call_type": "incoming",
        "phone_number": "74950000000",
        "data_source": "live",
    }
    return [
        {**common, "event_id": f"{unique_id}:start", "event_type": "start", "occurred_at": start},
        {
            **common,
            "event_id": f"{unique_id}:dial",
            "event_type": "dial",
            "occurred_at": start,
            "extensions": ["999"],
        },
        {
            **common,
            "event_id": f"{unique_id}:hangup",
            "event_type": "hangup",
            "occurred_at": start + timedelta(seconds=talk_sec),
            "call_status": "no_answer",
        },
    ]


def snapshot(pipeline: Pipeline) -> tuple[list[tuple[Any, ...]], ...]:
    """Every row but the sentinels'."""
    imported = "unique_id NOT LIKE 'sentinel-%'"
    return (
        pipeline.rows(f"SELECT * FROM calls WHERE {imported} ORDER BY unique_id"),
        pipeline.rows("SELECT * FROM call_participants ORDER BY call_id, extension"),
        pipeline.rows(f"SELECT * FROM call_events WHERE {imported} ORDER BY id"),
    )


def expected_report(export: Export, live: dict[str, int]) -> dict[str, Any]:
    migrated = {uid: d for uid, (_, d) in export.calls.items() if uid not in live}
    return {
        "records_read": len(export.lines),
        "calls_written": len(migrated),
        "calls_already_present": len(live),
        "skipped": dict(export.skipped),
        "source_calls": len(export.calls),
        "source_duration_sec": export.duration,
        "database_calls": len(export.calls),
        "database_duration_sec": sum(migrated.values()) + sum(live.values()),
        "migrated_source_duration_sec": sum(migrated.values()),
        "migrated_database_duration_sec": sum(migrated.values()),
        "missing": 0,
        "ok": True,
    }


def test_a_mongo_export_migrates_with_a_validation_report(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    export = generate(CALLS)
    file = tmp_path / "calls.json"
    file.write_text(export.text)
    live_ids = list(export.calls)[::LIVE_EVERY]
    # A live call's own figures differ from the export's: 7 s, one extension nobody migrated.
    live = {uid: 7 for uid in live_ids}
    start = datetime(2023, 3, 1, tzinfo=UTC)
    events = [e for uid in live_ids for e in live_call(uid, start, live[uid])]
    pipeline.start_worker()
    asyncio.run(publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, events))
    wait_until(
        lambda: (
            pipeline.scalar("SELECT count(*) FROM calls WHERE end_time IS NOT NULL")
            == len(live_ids)
        ),
        timeout=TIMEOUT_SEC,
        what="the live calls",
    )

    first = run_import(pipeline, file)
    assert first.returncode == 0, first.stderr[-3000:]
    assert orjson.loads(first.stdout) == expected_report(export, live)
    # Every malformed record is named by its number and reason.
    assert "record 98: not Extended JSON" in first.stderr

    rows = pipeline.rows("SELECT unique_id, data_source, mongo_id, duration FROM calls")
    by_id = {uid: (source, mongo_id, duration) for uid, source, mongo_id, duration in rows}
    for uid, (mongo_id, duration) in export.calls.items():
        if uid in live:
            assert by_id[uid] == ("live", None, 7)
        else:
            assert by_id[uid] == ("migrated", mongo_id, duration)
    # Live calls kept their own participants, and no migrated event was stored for them.
    assert pipeline.rows(
        "SELECT DISTINCT p.extension FROM call_participants p JOIN calls c ON c.id = p.call_id"
        " WHERE c.data_source = 'live'"
    ) == [("999",)]
    assert (
        pipeline.scalar(
            "SELECT count(*) FROM call_events e JOIN calls c ON c.id = e.call_id"
            " WHERE c.data_source = 'live' AND e.data_source <> 'live'"
        )
        == 0
    )
    # Every extension of a migrated call is a participant; the enterprise token stays out.
    assert pipeline.scalar("SELECT count(*) FROM calls WHERE raw_data ? 'Token'") == 0
    assert pipeline.scalar("SELECT count(*) FROM calls WHERE raw_data ? 'UniqueId'") == len(
        export.calls
    ) - len(live)
    assert (
        pipeline.scalar(
            "SELECT count(*) FROM calls WHERE data_source = 'migrated'"
            " AND extensions_count"
            " <> (SELECT count(*) FROM call_participants p WHERE p.call_id = calls.id)"
        )
        == 0
    )

    before = snapshot(pipeline)
    again = run_import(pipeline, file)
    assert again.returncode == 0, again.stderr[-3000:]
    assert orjson.loads(again.stdout) == orjson.loads(first.stdout)
    # Keys published after the re-run, on every partition: once they are in, so is the re-run.
    sentinels = [live_call(f"sentinel-{n}", start, 1)[0] for n in range(SENTINELS)]
    asyncio.run(publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, sentinels))
    wait_until(
        lambda: (
            pipeline.scalar("SELECT count(*) FROM calls WHERE unique_id LIKE 'sentinel-%'")
            == SENTINELS
        ),
        timeout=TIMEOUT_SEC,
        what="the sentinel calls",
    )
    assert snapshot(pipeline) == before


SAMPLE = DATA / "mongo" / "calls.json"
# README.md, "MongoDB export": what importing the sample prints.
SAMPLE_REPORT = """\
records read:            6
calls written:           4 (data_source=migrated)
calls already present:   0 (live or downloaded kept)
skipped:                 2 (1 duplicate UniqueId, 1 no UniqueId)
calls:                   source 4, database 4
duration (s):            source 280, database 280
migrated duration (s):   source 280, database 280
validation:              OK
"""


def test_the_readme_sample_prints_the_readme_report(pipeline: Pipeline) -> None:
    pipeline.start_worker()
    result = run_import(pipeline, SAMPLE, "--enterprise-id", "0367", as_json=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout == SAMPLE_REPORT
    assert "record 5: no UniqueId: _id 665ef1a7c2a4e31b8c0d9a16" in result.stderr
    assert pipeline.rows(
        "SELECT unique_id, call_type, call_status, main_extension, duration FROM calls"
        " ORDER BY unique_id"
    ) == [
        ("1717496947.101", "incoming", "answered", "151", 138),
        ("1717497012.102", "incoming", "no_answer", "150", 30),
        ("1717497100.103", "outgoing", "busy", "162", 12),
        ("1717497200.104", "internal", "answered", "150", 100),
    ]


def test_without_a_worker_the_report_says_so_and_fails(pipeline: Pipeline, tmp_path: Path) -> None:
    file = tmp_path / "calls.json"
    file.write_text(generate(5, malformed_every=1000).text)
    result = run_import(pipeline, file, "--wait-sec", "3")
    assert result.returncode == 1
    assert "5 of 5 calls are not in the database after 3 s" in result.stderr
    assert "is `switchboard worker` running" in result.stderr
    report = orjson.loads(result.stdout)
    assert (report["missing"], report["ok"]) == (5, False)


def test_an_unreachable_mongodb_fails_with_a_clear_message(pipeline: Pipeline) -> None:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": pipeline.bootstrap,
        "SCHEMA_REGISTRY_URL": pipeline.registry_url,
        "DATABASE_URL": pipeline.database_url,
    }
    command = ["import", "mongo-calls", "--mongo-uri", "mongodb://127.0.0.1:9/old", "--json"]
    result = subprocess.run(
        [sys.executable, "-m", "switchboard", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "error: cannot read the records: 127.0.0.1:9" in result.stderr
    assert result.stdout == ""


@pytest.mark.skipif(
    not os.environ.get("SWITCHBOARD_TEST_MONGO_URI"),
    reason="no MongoDB server on this machine: set SWITCHBOARD_TEST_MONGO_URI to run it",
)
def test_a_live_mongodb_migrates_like_its_export(pipeline: Pipeline) -> None:
    from pymongo import MongoClient

    export = generate(200)
    uri = os.environ["SWITCHBOARD_TEST_MONGO_URI"]
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    collection = client["switchboard_test"]["calls"]
    collection.drop()
    from schemas.mongo_calls import BadRecord, parse_line

    documents = []
    for line in export.lines:
        try:
            documents.append(parse_line(line))
        except BadRecord:
            continue
    collection.insert_many([{k: v for k, v in d.items()} for d in documents])
    pipeline.start_worker()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": pipeline.bootstrap,
        "SCHEMA_REGISTRY_URL": pipeline.registry_url,
        "DATABASE_URL": pipeline.database_url,
    }
    command = ["import", "mongo-calls", "--mongo-uri", uri, "--db", "switchboard_test", "--json"]
    result = subprocess.run(
        [sys.executable, "-m", "switchboard", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SEC + 120,
    )
    report = orjson.loads(result.stdout)
    assert (report["source_calls"], report["calls_written"], report["ok"]) == (200, 200, True)
