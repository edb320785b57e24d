"""`switchboard import asterisk-queue-log`: a real queue_log file, through the worker, into rows."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import pytest

from schemas.queue_log import BadLine, ParsedLine, parse_queue_log
from tests.integration.conftest import Pipeline
from tests.integration.stack import wait_until

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).parent.parent / "data" / "queue_log"
BACKFILL_GRACE_SEC = 100 * 365 * 24 * 3600


def run_import(pipeline: Pipeline, file: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": pipeline.bootstrap,
        "SCHEMA_REGISTRY_URL": pipeline.registry_url,
    }
    command = ["import", "asterisk-queue-log", str(file), "--enterprise-id", "0367"]
    return subprocess.run(
        [sys.executable, "-m", "switchboard", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_queue_log_lands_in_queue_event_rows(pipeline: Pipeline) -> None:
    sample = SAMPLES / "asterisk_13.log"
    lines = sample.read_text().splitlines()
    parsed = [p for p in parse_queue_log(lines, enterprise_id="0367", tz=UTC)]
    expected = sum(isinstance(p, ParsedLine) for p in parsed)
    assert expected > 0 and not any(isinstance(p, BadLine) for p in parsed)

    result = run_import(pipeline, sample)
    assert result.returncode == 0, result.stderr
    assert f"imported {expected} queue events" in result.stderr

    # The sample is from 2023: a backfill, so the grace period for late events is raised.
    pipeline.start_worker(late_grace_sec=str(BACKFILL_GRACE_SEC))
    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM queue_event") == expected,
        what=f"{expected} queue events",
    )
    assert pipeline.scalar("SELECT count(DISTINCT source_system) FROM queue_event") == 1
    # The log's own figures are kept: some connect carries its holdtime as wait_sec.
    assert pipeline.scalar("SELECT count(*) FROM queue_event WHERE wait_sec IS NOT NULL") > 0
    # Its sessions are folded in the same transaction (see tests/unit/test_queue_log.py).
    assert pipeline.rows(
        "SELECT outcome, count(*) FROM fact_interaction_timing GROUP BY 1 ORDER BY 1"
    ) == [("answered", 4), ("flow_out", 3), ("short_abandoned", 1)]


def test_malformed_lines_are_reported_by_number_and_the_rest_imported(pipeline: Pipeline) -> None:
    sample = SAMPLES / "malformed.log"
    parsed = list(parse_queue_log(sample.read_text().splitlines(), enterprise_id="0367", tz=UTC))
    bad_numbers = [p.line_number for p in parsed if isinstance(p, BadLine)]

    result = run_import(pipeline, sample)
    assert result.returncode == 1
    for number in bad_numbers:
        assert f"line {number}:" in result.stderr
