"""A simulated day end to end: `switchboard simulate --day` into a pipeline's broker, the wait
for its worker to drain, and `switchboard verify` of the API against the simulator's truth.

Shared by the day tests of tests/integration/pipelines/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from schemas.topics import INPUT_TOPIC_NAMES
from switchboard.kafka.lag import consumer_lag
from tests.support.pipeline import Pipeline
from tests.support.stack import launch_api

# The day is history by the time the test runs: the grace period must not turn it away.
TEN_YEARS_SEC = str(10 * 365 * 24 * 3600)


def simulate(pipeline: Pipeline, options: Sequence[str], home: Path) -> str:
    """`switchboard simulate OPTIONS` into the pipeline's broker and registry; its output."""
    result = subprocess.run(
        [sys.executable, "-m", "switchboard", "simulate", *options],
        env={
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": pipeline.bootstrap,
            "SCHEMA_REGISTRY_URL": pipeline.registry_url,
            "SWITCHBOARD_HOME": str(home),
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def drained(bootstrap: str, group: str) -> bool:
    """Whether `group` has read every input topic to its end."""
    lags = consumer_lag(bootstrap, group, INPUT_TOPIC_NAMES)
    return bool(lags) and all(p.lag == 0 for p in lags if p.end > 0)


def verify(truth: Path, api_url: str, token: str) -> subprocess.CompletedProcess[str]:
    """`switchboard verify`, as a newcomer runs it against the API."""
    port = api_url.rsplit(":", 1)[1]
    command = [sys.executable, "-m", "switchboard", "verify", str(truth), "--token", token]
    return subprocess.run(
        [*command, "--api-port", port],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@contextmanager
def api_over(pipeline: Pipeline, workdir: Path) -> Iterator[str]:
    """`switchboard api` over the pipeline's database, its home and log in `workdir`; its URL."""
    env = {"DATABASE_URL": pipeline.database_url, "SWITCHBOARD_HOME": str(workdir / "api-home")}
    api, api_url = launch_api(env, workdir / "api.log")
    try:
        yield api_url
    finally:
        api.stop()


def assert_every_figure_matches(truth: Path, api_url: str, token: str, enterprises: int) -> None:
    agrees = verify(truth, api_url, token)
    assert agrees.returncode == 0, agrees.stdout[-5000:] + agrees.stderr[-3000:]
    assert agrees.stdout.endswith(f"every figure matches ({enterprises} enterprises, {truth})\n")


def verify_wrong(truth: Mapping[str, Any], path: Path, api_url: str, token: str) -> list[str]:
    """`switchboard verify` of `truth` (a figure off), written to `path`: it exits 1; its lines."""
    path.write_text(json.dumps(truth))
    differs = verify(path, api_url, token)
    assert differs.returncode == 1, differs.stderr[-3000:]
    return differs.stdout.splitlines()
