"""/health reports a frozen worker (SIGSTOP) as down within the documented window, and as ok
again once it runs (issue 8, part 2)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from schemas.topics import TELEPHONY_CALLS
from streams.runtime.heartbeat import DOWN_AFTER_BEATS
from tests.support.health import start_api, worker_state
from tests.support.pipeline import Pipeline
from tests.support.stack import publish, wait_until
from tests.support.traffic import shuffled_with_duplicates

pytestmark = pytest.mark.integration

BEAT_SEC = 1.0
# The window /health promises (3 missed beats), plus one beat of jitter and one poll.
DOWN_WITHIN_SEC = (DOWN_AFTER_BEATS + 1) * BEAT_SEC + 2.0


async def test_a_frozen_worker_is_down_within_the_window_and_ok_once_it_runs(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    events = shuffled_with_duplicates(600, seed=5)
    worker = pipeline.start_worker(heartbeat_interval_sec=str(BEAT_SEC), batch_size="100")
    api, url = start_api(
        pipeline.database_url, pipeline.bootstrap, worker.env["SWITCHBOARD_APP_ID"], tmp_path
    )
    try:
        await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, events[:300])
        wait_until(
            lambda: worker_state(url) == (200, "ok"), timeout=120, what="/health 200, worker ok"
        )

        os.kill(worker.pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        await publish(pipeline.bootstrap, pipeline.registry_url, TELEPHONY_CALLS, events[300:])
        answer = wait_until(
            lambda: _answered_503(worker_state(url)),
            timeout=60,
            interval=0.2,
            what="/health 503 for the frozen worker",
        )
        noticed = time.monotonic() - frozen_at
        assert answer is not None and answer[1] in ("down", "stalled")
        assert noticed <= DOWN_WITHIN_SEC, f"503 after {noticed:.1f} s"
        print(f"SIGSTOP: 503 with the worker {answer[1]} after {noticed:.1f} s")

        os.kill(worker.pid, signal.SIGCONT)
        wait_until(
            lambda: worker_state(url) == (200, "ok"), timeout=90, what="/health 200 after SIGCONT"
        )
        calls = pipeline.scalar("SELECT count(*) FROM calls")
        wait_until(
            lambda: pipeline.scalar("SELECT count(*) FROM call_events") == 4 * 600,
            timeout=120,
            what=f"every event after SIGCONT ({calls} calls so far)",
        )
    finally:
        os.kill(worker.pid, signal.SIGCONT)
        api.stop()


def _answered_503(answer: tuple[int, str]) -> tuple[int, str] | None:
    return answer if answer[0] == 503 else None
