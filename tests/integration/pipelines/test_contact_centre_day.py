"""A simulated contact-centre day, through the real broker, worker and PostgreSQL, read back from
the API, equals the simulator's own ground truth: counts exactly, seconds and percentages to 0.01.

The simulator computes its truth from its generative records, independently of
streams.contact_centre.figures, so
this test checks the whole chain (wire format, dedup, correlation, sessions, facts, SQL, API)
against the contract's definitions rather than against itself.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from api.auth import create_token
from tests.support.pipeline import Pipeline
from tests.support.simulated_day import (
    TEN_YEARS_SEC,
    api_over,
    assert_every_figure_matches,
    drained,
    simulate,
    verify_wrong,
)
from tests.support.stack import wait_until

pytestmark = pytest.mark.integration

DAY = "2026-11-20"
SEED = 7


def simulate_day(pipeline: Pipeline, truth: Path, home: Path) -> str:
    options = ["--scenario", "contact-centre", "--day", DAY, "--seed", str(SEED), "--speed", "0"]
    options += ["--enterprise", "0367", "--enterprise", "0412", "--expected", str(truth)]
    return simulate(pipeline, options, home)


def test_a_simulated_day_reads_back_as_the_simulators_ground_truth(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    worker = pipeline.start_worker(late_grace_sec=TEN_YEARS_SEC)
    truth_path = tmp_path / "truth.json"
    simulate_day(pipeline, truth_path, tmp_path / "sim-home")
    truth = json.loads(truth_path.read_text())
    group = worker.env["SWITCHBOARD_APP_ID"]
    wait_until(lambda: drained(pipeline.bootstrap, group), timeout=240, what="the worker to drain")

    enterprises = list(truth["enterprises"])
    token = asyncio.run(create_token(pipeline.database_url, enterprises, "day test"))
    with api_over(pipeline, tmp_path) as api_url:
        assert_every_figure_matches(truth_path, api_url, token, enterprises=2)

        # One figure off: named, with both values, and the status says so.
        enterprise = enterprises[0]
        offered = truth["enterprises"][enterprise]["kpis"]["offered"]
        truth["enterprises"][enterprise]["kpis"]["offered"] = offered + 1
        lines = verify_wrong(truth, tmp_path / "wrong.json", api_url, token)
        assert f"{enterprise} kpis offered: expected {offered + 1}, got {offered}" in lines
        assert lines[-1].startswith("1 mismatch (")
