"""`switchboard import asterisk-cdr`: Asterisk's own CDR, through broker and worker, into calls.

The figures checked against the CDR: the number of calls, the number answered, the total
duration (`sum(calls.duration)` = the records' `duration`) and the total billsec, which the
fold keeps as the answering participant's `hangup_time - answer_time` (= the record's
`billsec`; every answered call has exactly one answering participant).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bench import cdr_files
from schemas.cdr import CdrCall, parse_cdr
from schemas.topics import TELEPHONY_CALLS
from switchboard.imports.cdr import read_rows
from tests.support.paths import DATA
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until

pytestmark = pytest.mark.integration

SAMPLES = DATA / "cdr"
ENTERPRISE, HOST = "0367", "10.88.10.5"
FIRST = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)


def command(file: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "switchboard",
        "import",
        "asterisk-cdr",
        str(file),
        "--enterprise-id",
        ENTERPRISE,
        "--asterisk-host",
        HOST,
        *extra,
    ]


def environment(pipeline: Pipeline, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": pipeline.bootstrap,
        "SCHEMA_REGISTRY_URL": pipeline.registry_url,
        "DATABASE_URL": pipeline.database_url,
        "SWITCHBOARD_HOME": str(home),
    }


def run_import(pipeline: Pipeline, file: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(file),
        env=environment(pipeline, home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def parsed_calls(file: Path) -> list[CdrCall]:
    items = parse_cdr(read_rows(str(file)), enterprise_id=ENTERPRISE, asterisk_host=HOST, tz=UTC)
    return [i for i in items if isinstance(i, CdrCall)]


def figures(pipeline: Pipeline) -> tuple[int, int, int, int]:
    return pipeline.rows(
        """SELECT (SELECT count(*) FROM calls),
                  (SELECT count(*) FROM calls WHERE call_status = 'answered'),
                  (SELECT coalesce(sum(duration), 0) FROM calls),
                  (SELECT coalesce(sum(extract(epoch FROM hangup_time - answer_time)), 0)::int
                   FROM call_participants WHERE answer_time IS NOT NULL)"""
    )[0]


def sync_row(pipeline: Pipeline) -> tuple[object, ...]:
    return pipeline.rows(
        f"""SELECT total_downloaded_events, last_check_timestamp IS NOT NULL,
                   last_successful_sync, last_failed_sync, failed_events_count,
                   last_error_message
            FROM download_sync WHERE enterprise_id = '{ENTERPRISE}' AND asterisk_host = '{HOST}'"""
    )[0]


def live_copy(call: CdrCall) -> list[dict[str, object]]:
    """The same call as the live feed saw it, told apart by its trunk."""
    return [
        {
            **event,
            "source_system": "asterisk-ami",
            "data_source": "live",
            "trunk": "live-trunk",
            "raw": None,
        }
        for event in call.events
    ]


@pytest.mark.parametrize("layout", ["master_csv", "sqlite3_custom"])
def test_a_cdr_of_1000_calls_imports_in_one_command(
    pipeline: Pipeline, tmp_path: Path, layout: str
) -> None:
    records = cdr_files.generate(1000, seed=2025, first=FIRST)
    source = tmp_path / ("Master.csv" if layout == "master_csv" else "master.db")
    if layout == "master_csv":
        # cdr_csv's defaults: neither uniqueid nor userfield, so ids are derived.
        cdr_files.write_master_csv(source, records)
    else:
        cdr_files.write_sqlite3_custom(source, records)
    calls = parsed_calls(source)
    assert len(calls) == 1000
    live = next(c for c in calls if c.disposition == "ANSWERED")
    asyncio.run(
        publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, live_copy(live))
    )

    result = run_import(pipeline, source, tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert f"imported 1000 calls from {source}" in result.stderr
    pipeline.start_worker()

    expected = cdr_files.totals(records)
    wanted = (expected.calls, expected.answered, expected.duration, expected.billsec)
    wait_until(lambda: figures(pipeline) == wanted, timeout=180, what=f"calls {wanted}")
    downloaded_events = sum(len(c.events) for c in calls if c is not live)
    wait_until(lambda: sync_row(pipeline)[0] == downloaded_events, what="download_sync's total")
    # The live call keeps its own rows; its downloaded copy is superseded, not stored.
    assert pipeline.rows(
        f"SELECT data_source, trunk FROM calls WHERE unique_id = '{live.call_id}'"
    ) == [("live", "live-trunk")]
    assert pipeline.scalar("SELECT count(DISTINCT data_source) FROM calls") == 2
    _, checked, last_sync, last_failed, failed, error = sync_row(pipeline)
    assert checked and last_failed is None and not failed and error is None
    # The sink's figure: the newest downloaded event stored, i.e. the last hangup imported.
    assert last_sync == max(c.events[-1]["occurred_at"] for c in calls if c is not live)

    _a_second_run_adds_nothing(pipeline, tmp_path, source, wanted, downloaded_events)


def _a_second_run_adds_nothing(
    pipeline: Pipeline,
    tmp_path: Path,
    source: Path,
    wanted: tuple[int, int, int, int],
    downloaded_events: int,
) -> None:
    changed_before = pipeline.scalar("SELECT max(updated_at) FROM calls")
    again = run_import(pipeline, source, tmp_path / "home")
    assert again.returncode == 0, again.stderr
    # A sentinel after the replay: once it is folded, the worker has been through the replay.
    sentinel = tmp_path / "sentinel.csv"
    later = FIRST + timedelta(days=30)
    cdr_files.write_master_csv(sentinel, cdr_files.generate(1, seed=1, first=later))
    assert run_import(pipeline, sentinel, tmp_path / "home").returncode == 0
    wait_until(lambda: figures(pipeline)[0] == wanted[0] + 1, what="the sentinel call")
    sentinel_events = len(parsed_calls(sentinel)[0].events)
    wait_until(
        lambda: sync_row(pipeline)[0] == downloaded_events + sentinel_events,
        what="the sentinel's events in download_sync",
    )
    changed_after = pipeline.scalar(
        f"SELECT max(updated_at) FROM calls WHERE start_time < '{later.isoformat()}'"
    )
    assert changed_after == changed_before


def test_malformed_rows_are_reported_and_recorded_in_download_sync(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    result = run_import(pipeline, SAMPLES / "malformed.csv", tmp_path / "home")
    assert result.returncode == 1
    for number in (2, 3, 4):
        assert f"row {number}:" in result.stderr
    assert "imported 2 calls" in result.stderr
    _, checked, _, last_failed, failed, error = sync_row(pipeline)
    assert checked and last_failed is not None and failed == 3
    assert isinstance(error, str) and error.startswith("row 2: expected 16 to 18 columns")
    assert error.endswith("(and 2 more)")


def test_watch_picks_up_only_the_rows_appended_since(pipeline: Pipeline, tmp_path: Path) -> None:
    # check_interval_minutes = 0: re-check as soon as possible, so the test need not wait.
    with psycopg.connect(pipeline.database_url) as conn:
        conn.execute(
            "INSERT INTO download_sync (enterprise_id, asterisk_host, check_interval_minutes)"
            " VALUES (%s, %s, 0)",
            (ENTERPRISE, HOST),
        )
    records = cdr_files.generate(25, seed=9, first=FIRST)
    source = tmp_path / "Master.csv"
    cdr_files.write_master_csv(source, records[:20], uniqueid=True)
    log = tmp_path / "watch.log"
    with log.open("w") as stderr:
        watcher = subprocess.Popen(
            command(source, "--watch"),
            env=environment(pipeline, tmp_path / "home"),
            stderr=stderr,
            stdout=subprocess.DEVNULL,
        )
    try:
        wait_until(lambda: "imported 20 calls" in log.read_text(), timeout=120, what="first pass")
        cdr_files.write_master_csv(source, records[20:], uniqueid=True)
        wait_until(
            lambda: (
                "imported 5 calls from" in log.read_text()
                and "20 already imported" in log.read_text()
            ),
            timeout=60,
            what="the appended rows",
        )
    finally:
        watcher.send_signal(signal.SIGINT)
        try:
            status = watcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # Left running, it would re-read the file in a loop for the rest of the session.
            watcher.kill()
            watcher.wait()
            raise AssertionError(
                f"Ctrl-C did not stop the watch:\n{log.read_text()[-3000:]}"
            ) from None
    assert status == 0, log.read_text()
    assert "imported 25 calls" not in log.read_text()
    pipeline.start_worker()
    wait_until(lambda: figures(pipeline)[0] == 25, timeout=120, what="25 calls")
    assert {row[0] for row in pipeline.rows("SELECT unique_id FROM calls")} == {
        r.uniqueid for r in records
    }
