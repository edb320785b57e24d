"""A live simulation never sends an event before the wall clock reaches its time: the worker
refuses events dated ahead of it. Pacing and draining are checked on the real event loop."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.topics import Topic
from switchboard.simulation import SimEvent
from switchboard.simulation.runner import _Console, _Failures, _Run


class _Timeline:
    """Events due at the given simulated seconds; arrivals close after `until`."""

    def __init__(self, dues: list[float], until: float) -> None:
        self._dues = dues
        self._until = until
        self._current = 0.0

    @property
    def draining(self) -> bool:
        return self._current > self._until

    def stop_arrivals(self) -> None:
        self._until = -1.0

    def __iter__(self) -> Any:
        for due in self._dues:
            self._current = due
            yield SimEvent(due, "telephony.calls", f"c{due}", {"event_type": "start"})


class _Recorder:
    """Stands in for the Kafka publisher: remembers when each event went out (loop time)."""

    def __init__(self) -> None:
        self.sent_at: list[float] = []

    async def publish(self, topic: Topic, record: dict[str, Any], **_: Any) -> None:
        self.sent_at.append(asyncio.get_running_loop().time())


def _run(dues: list[float], *, until: float, speed: float, start_offset: float) -> list[float]:
    async def go() -> list[float]:
        recorder = _Recorder()
        anchor = asyncio.get_running_loop().time()
        run = _Run(
            _Timeline(dues, until),  # type: ignore[arg-type]
            recorder,  # type: ignore[arg-type]
            _Failures(_Console(io.StringIO())),
            anchor=anchor,
            speed=speed,
            start_offset=start_offset,
        )
        await run.publish_all()
        return [t - anchor for t in recorder.sent_at]

    return asyncio.run(go())


def test_draining_waits_for_the_wall_clock_instead_of_sending_the_future_at_once() -> None:
    # Arrivals end at 0.1 s; the call in flight hangs up at 0.4 s of simulated = wall time.
    sent = _run([0.0, 0.1, 0.4], until=0.1, speed=1.0, start_offset=0.0)

    assert sent[2] >= 0.4 - 0.005


def test_sped_up_the_pace_gives_way_to_the_wall_clock_past_the_window() -> None:
    # 4x: 0.4 s of simulated arrivals end now (start 0.3 s back); a tail event 0.2 s after
    # the window is dated 0.2 s ahead of now, so it waits for it.
    start_offset = -0.3
    sent = _run([0.0, 0.4, 0.6], until=0.4, speed=4.0, start_offset=start_offset)

    for due, at in zip([0.0, 0.4, 0.6], sent, strict=True):
        assert at >= start_offset + due - 0.005
    assert sent[1] >= 0.1 - 0.005  # paced: 0.4 simulated seconds at 4x


def test_unpaced_a_run_placed_in_the_past_goes_out_at_once() -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    offset = (start - datetime.now(UTC)).total_seconds()
    sent = _run([0.0, 10.0, 3000.0], until=3000.0, speed=0.0, start_offset=offset)

    assert max(sent) < 0.5
