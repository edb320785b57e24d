"""The sampler's memory across samples: statuses over the window, lagSec from end offsets."""

from __future__ import annotations

import pytest

from ops.lag.tracker import GroupTracker
from streams.runtime.lag_status import LagStatus

CALLS = ("telephony.calls", 0)
QUEUE = ("telephony.queue", 0)
WINDOW = 10.0


def test_a_frozen_consumer_goes_stall_then_stop_and_back_to_ok_once_it_commits() -> None:
    tracker = GroupTracker("g", WINDOW)
    verdicts = []
    for t in range(0, 26):
        # 10 messages a second arrive; the consumer froze at offset 0.
        verdicts.append(tracker.observe(float(t), {CALLS: 0}, {CALLS: 10 * t})[0])
    assert [v.status for v in verdicts[:10]] == [LagStatus.OK] * 10
    # Lag grew at every sample of a whole window, but the offset stood still for no longer.
    assert verdicts[10].status is LagStatus.WARN
    assert verdicts[15].status is LagStatus.STALL
    assert verdicts[25].status is LagStatus.STOP
    assert verdicts[25].lag == 250
    # Offset 0 was the end at t=0: the oldest unprocessed message is 25 s old.
    assert verdicts[25].lag_sec == pytest.approx(25.0)

    caught_up = tracker.observe(26.0, {CALLS: 260}, {CALLS: 260})[0]
    assert (caught_up.status, caught_up.lag, caught_up.lag_sec) == (LagStatus.OK, 0, 0.0)


def test_a_missing_heartbeat_makes_a_stall_a_stop() -> None:
    tracker = GroupTracker("g", WINDOW)
    for t in range(0, 12):
        verdict = tracker.observe(float(t), {CALLS: 3}, {CALLS: 9}, worker_beating=False)[0]
    assert verdict.status is LagStatus.STOP


def test_a_partition_the_broker_no_longer_knows_is_forgotten() -> None:
    tracker = GroupTracker("g", WINDOW)
    for t in range(0, 12):
        tracker.observe(float(t), {CALLS: 3, QUEUE: 0}, {CALLS: 9, QUEUE: 0})
    # The queue partition did not answer this time: still known, only left out of the sample.
    verdicts = tracker.observe(12.0, {CALLS: 3, QUEUE: 0}, {CALLS: 9})
    assert [(v.topic, v.status) for v in verdicts] == [("telephony.calls", LagStatus.STALL)]
    tracker.observe(13.0, {QUEUE: 0}, {QUEUE: 0})
    again = tracker.observe(14.0, {CALLS: 3}, {CALLS: 9})
    assert again[0].status is LagStatus.OK
