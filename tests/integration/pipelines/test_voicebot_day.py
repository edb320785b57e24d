"""A simulated day of the voice bot in front of the contact centre, through the real broker,
worker and PostgreSQL, read back from the API, equals the simulator's own ground truth: every
figure of daily-stats, latency (also grouped by day, scenario and prompt version), costs (grouped
likewise), tools, ab-tests and handoffs; counts exactly, seconds and money to 0.01, p-values to
1e-6 (see switchboard.cli.verify_voicebot).

The simulator computes its truth from the records it published (switchboard.simulation.voicebot
.truth), independently of streams.voicebot and the API's SQL, and the hand-overs from what its
contact centre did with the callers, so this checks the whole chain: wire format, dedup, the
newest call version winning, partitions, the join of a hand-over to its queue session, SciPy's
tests, against the contract's definitions.
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

DAY = "2026-11-21"
SEED = 13
TENANTS = ("0367", "0412")


def simulate_day(pipeline: Pipeline, truth: Path, home: Path) -> None:
    options = ["--day", DAY, "--scenario", "contact-centre", "--scenario", "voicebot"]
    options += ["--seed", str(SEED), "--speed", "0"]
    # A quieter centre than the everyday one, and the seed's bot (about 500 calls a day):
    # the test is about the figures, not the volume.
    options += ["--calls-per-hour", "40", "--bot-calls-per-hour", "30", "--expected", str(truth)]
    for tenant in TENANTS:
        options += ["--enterprise", tenant]
    simulate(pipeline, options, home)


def test_a_simulated_bot_day_reads_back_as_the_simulators_ground_truth(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    worker = pipeline.start_worker(late_grace_sec=TEN_YEARS_SEC)
    truth_path = tmp_path / "truth.json"
    simulate_day(pipeline, truth_path, tmp_path / "sim-home")
    truth = json.loads(truth_path.read_text())
    bot = truth["voicebot"]
    # The day has what the figures need: transfers answered and abandoned, failing tools, a
    # verdict on the A/B test.
    for tenant in TENANTS:
        figures = bot["enterprises"][tenant]
        assert figures["handoffs"]["answered"] > 0, tenant
        assert any(tool["successPct"] < 100 for tool in figures["tools"]), tenant
        assert figures["abTests"][0]["qualityPValue"] is not None, tenant
    group = worker.env["SWITCHBOARD_APP_ID"]
    wait_until(lambda: drained(pipeline.bootstrap, group), timeout=300, what="the worker to drain")

    token = asyncio.run(create_token(pipeline.database_url, list(TENANTS), "bot day test"))
    with api_over(pipeline, tmp_path) as api_url:
        assert_every_figure_matches(truth_path, api_url, token, enterprises=2)

        # One figure off: named, with both values, and the status says so.
        tenant = TENANTS[0]
        handoffs = bot["enterprises"][tenant]["handoffs"]["handoffs"]
        bot["enterprises"][tenant]["handoffs"]["handoffs"] = handoffs + 1
        wrong_path = tmp_path / "wrong.json"
        lines = verify_wrong({"voicebot": bot}, wrong_path, api_url, token)
        line = f"{tenant} voicebot handoffs handoffs: expected {handoffs + 1}, got {handoffs}"
        assert line in lines
        assert lines[-1] == f"1 mismatch (2 enterprises, {wrong_path})"
