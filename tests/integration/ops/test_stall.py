"""A frozen worker (SIGSTOP) shows STALL or STOP in /api/lag, /metrics, /health and
`switchboard lag --watch` within the stall window, and OK again once it runs (contract 10)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.auth import create_token
from schemas.topics import TELEPHONY_CALLS
from tests.integration.ops.ops_api import get_lag, metrics_text, series, start_ops_api
from tests.support.health import health
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until
from tests.support.traffic import shuffled_with_duplicates

pytestmark = pytest.mark.integration

WINDOW_SEC = 5.0
# STOP is two windows of an unmoved offset (or one with the heartbeat gone), plus a few samples.
STALLED_WITHIN_SEC = 2 * WINDOW_SEC + 10
STALLED = ("STALL", "STOP")


async def test_a_frozen_worker_is_stalled_everywhere_and_ok_again_after_sigcont(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    events = shuffled_with_duplicates(400, seed=11)
    worker = pipeline.start_worker(heartbeat_interval_sec="1", batch_size="100")
    group = worker.env["SWITCHBOARD_APP_ID"]
    token = await create_token(pipeline.database_url, [], "ops", admin=True)
    api, url = start_ops_api(
        pipeline.database_url, pipeline.bootstrap, group, tmp_path / "api", window_sec=WINDOW_SEC
    )
    cli: subprocess.Popen[bytes] | None = None
    try:
        await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, events[:200])
        seen: list[Any] = [None]

        def probe() -> bool:
            seen[0] = get_lag(url, token)
            return _caught_up(seen[0], 200)

        try:
            wait_until(probe, timeout=120, what="the worker to catch up")
        except AssertionError:
            raise AssertionError(f"{seen[0]}") from None

        os.kill(worker.pid, signal.SIGSTOP)
        await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, events[200:])
        cli_out = tmp_path / "lag-watch.txt"
        cli = _watch(pipeline, group, cli_out)

        body = wait_until(
            lambda: _stalled(get_lag(url, token)),
            timeout=STALLED_WITHIN_SEC,
            interval=0.5,
            what="/api/lag to call the frozen worker's partitions STALL or STOP",
        )
        behind = [p for p in body["partitions"] if p["lag"] > 0]
        assert behind and all(p["status"] in STALLED for p in behind), behind
        assert all(p["lagSec"] > 0 for p in behind), behind

        metrics = metrics_text(url)
        assert max(series(metrics, "switchboard_consumer_status", group)) >= 2
        assert series(metrics, "switchboard_consumer_group_status", group)[0] >= 2
        assert max(series(metrics, "switchboard_consumer_lag", group)) > 0

        status, answer = health(url)
        assert status == 503
        assert answer["worker"]["status"] in ("down", "stalled")
        assert answer["worker"]["stalledPartitions"], answer["worker"]

        wait_until(
            lambda: any(s in cli_out.read_text() for s in STALLED),
            timeout=STALLED_WITHIN_SEC,
            interval=0.5,
            what="`switchboard lag --watch` to print STALL or STOP",
        )

        os.kill(worker.pid, signal.SIGCONT)
        wait_until(
            lambda: _caught_up(get_lag(url, token), len(events)),
            timeout=120,
            interval=0.5,
            what="/api/lag OK after SIGCONT",
        )
        metrics = metrics_text(url)
        assert series(metrics, "switchboard_consumer_group_status", group) == [0.0]
        assert max(series(metrics, "switchboard_consumer_status", group)) == 0
    finally:
        os.kill(worker.pid, signal.SIGCONT)
        try:
            if cli is not None:
                _stop(cli)
        finally:
            api.stop()


def _stop(cli: subprocess.Popen[bytes]) -> None:
    cli.send_signal(signal.SIGINT)
    try:
        cli.wait(timeout=30)
    except subprocess.TimeoutExpired:
        cli.kill()
        cli.wait()
        raise


def _watch(pipeline: Pipeline, group: str, out: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": pipeline.bootstrap,
        "DATABASE_URL": pipeline.database_url,
        "SWITCHBOARD_APP_ID": group,
        "SWITCHBOARD_STALL_WINDOW_SEC": str(WINDOW_SEC),
    }
    with out.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "switchboard", "lag", "--watch", "--interval", "1"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def _caught_up(body: dict[str, Any] | None, messages: int) -> bool:
    """All `messages` published, none behind, the group OK."""
    if body is None:
        return False
    calls = [p for p in body["partitions"] if p["topic"] == TELEPHONY_CALLS.name]
    return (
        sum(p["end"] for p in calls) == messages
        and body["totalLag"] == 0
        and body["status"] == "OK"
    )


def _stalled(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """The body once the group and every partition behind are STALL or STOP."""
    if body is None or body["status"] not in STALLED:
        return None
    behind = [p for p in body["partitions"] if p["lag"] > 0]
    return body if all(p["status"] in STALLED for p in behind) else None
