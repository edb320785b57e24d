"""Burrow's status rules over a window of (time, committed, end) samples."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from streams.runtime.heartbeat import BeatSeen, ProgressWindow, worker_health
from streams.runtime.lag_status import LagStatus, Sample, evaluate, evaluate_polled, trim, worst

WINDOW = 30.0


def samples(*points: tuple[float, int | None, int]) -> list[Sample]:
    return [Sample(t, c, e) for t, c, e in points]


def test_no_lag_now_is_ok_whatever_came_before() -> None:
    history = samples((0, 5, 10), (10, 5, 10), (20, 5, 10), (40, 10, 10))
    assert evaluate(history, now=40, window_sec=WINDOW) is LagStatus.OK


def test_an_offset_unmoved_for_a_whole_window_while_behind_is_stall() -> None:
    history = samples((0, 5, 10), (10, 5, 12), (20, 5, 12), (30, 5, 12), (35, 5, 12))
    assert evaluate(history, now=35, window_sec=WINDOW) is LagStatus.STALL


def test_a_stall_is_not_declared_before_a_whole_window_was_seen() -> None:
    history = samples((10, 5, 10), (20, 5, 10), (30, 5, 10))
    assert evaluate(history, now=30, window_sec=WINDOW) is LagStatus.OK


def test_no_sample_for_longer_than_the_window_while_behind_is_stop() -> None:
    history = samples((0, 5, 10), (10, 6, 10))
    assert evaluate(history, now=41, window_sec=WINDOW) is LagStatus.STOP


def test_a_committed_offset_going_backwards_is_rewind() -> None:
    history = samples((0, 5, 10), (10, 8, 12), (20, 3, 12))
    assert evaluate(history, now=20, window_sec=WINDOW) is LagStatus.REWIND


def test_lag_growing_at_every_step_of_the_window_is_warn() -> None:
    history = samples((0, 1, 5), (10, 2, 8), (20, 3, 12), (30, 4, 20))
    assert evaluate(history, now=30, window_sec=WINDOW) is LagStatus.WARN


def test_progress_with_lag_that_sometimes_shrinks_is_ok() -> None:
    history = samples((0, 1, 5), (10, 4, 8), (20, 5, 8), (30, 6, 12))
    assert evaluate(history, now=30, window_sec=WINDOW) is LagStatus.OK


def test_a_group_is_as_bad_as_its_worst_partition() -> None:
    assert worst([LagStatus.OK, LagStatus.STALL, LagStatus.WARN]) is LagStatus.STALL
    assert worst([]) is LagStatus.OK


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 50)), min_size=1, max_size=40))
def test_an_advancing_consumer_is_never_stalled_or_rewound(
    steps: list[tuple[int, int]],
) -> None:
    """Whatever the pace of commits and produce, a consumer whose offset moves every sample is
    never judged STALL, STOP or REWIND while it keeps being sampled."""
    committed, end, history = 0, 0, []
    for i, (advance, produced) in enumerate(steps):
        end += produced
        committed = min(end, committed + advance + 1) if end > committed else committed
        history.append(Sample(i * 5.0, committed, end))
    status = evaluate(history, now=(len(steps) - 1) * 5.0, window_sec=WINDOW)
    moved = all(b.committed != a.committed or b.lag == 0 for a, b in pairwise(history))
    if moved:
        assert status in (LagStatus.OK, LagStatus.WARN)


def test_trim_keeps_one_sample_older_than_the_window() -> None:
    history = samples((0, 1, 1), (10, 1, 1), (20, 1, 1), (50, 1, 1))
    trim(history, now=50, window_sec=WINDOW)
    assert [s.time for s in history] == [20, 50]


def test_the_worker_window_turns_a_stuck_partition_into_a_stall() -> None:
    window = ProgressWindow(window_sec=WINDOW)
    verdicts = [
        window.observe(t, ("telephony.calls", 0), committed=5, end=9, processed_at=None).status
        for t in range(0, 40, 5)
    ]
    assert verdicts[0] is LagStatus.OK
    assert verdicts[-1] is LagStatus.STALL


def test_health_is_down_without_a_beat_within_three_intervals() -> None:
    assert worker_health([]) == "down"
    assert worker_health([BeatSeen(16.0, 5.0, "ok")]) == "down"
    assert worker_health([BeatSeen(14.0, 5.0, "ok")]) == "ok"
    assert worker_health([BeatSeen(1.0, 5.0, "stalled"), BeatSeen(2.0, 5.0, "ok")]) == "stalled"
    assert worker_health([BeatSeen(1.0, 5.0, "ok"), BeatSeen(99.0, 5.0, "stalled")]) == "ok"


# A poller (the ops sampler) samples on its own clock: STALL and STOP come from how long the
# committed offset stood still while behind, and whether the worker still beats.


def polled(*points: tuple[float, int | None, int]) -> list[Sample]:
    return samples(*points)


def test_polled_an_offset_unmoved_for_a_window_while_behind_is_stall() -> None:
    history = polled(*((t, 5, 10 + t) for t in range(0, 36, 5)))
    assert evaluate_polled(history, now=35, window_sec=WINDOW) is LagStatus.STALL


def test_polled_unmoved_for_two_windows_is_stop() -> None:
    history = polled(*((t, 5, 10) for t in range(0, 66, 5)))
    assert evaluate_polled(history, now=65, window_sec=WINDOW) is LagStatus.STOP


def test_polled_unmoved_for_a_window_without_a_heartbeat_is_stop() -> None:
    history = polled(*((t, 5, 10) for t in range(0, 36, 5)))
    assert (
        evaluate_polled(history, now=35, window_sec=WINDOW, worker_beating=False) is LagStatus.STOP
    )


def test_polled_a_stall_is_not_declared_within_the_window() -> None:
    history = polled(*((t, 5, 10) for t in range(0, 26, 5)))
    assert evaluate_polled(history, now=25, window_sec=WINDOW) is LagStatus.OK
    assert evaluate_polled(history, now=25, window_sec=WINDOW, worker_beating=False) is LagStatus.OK


def test_polled_the_unmoved_time_starts_when_the_lag_appeared() -> None:
    """An idle consumer (no lag) that gets a message is not stalled for its idle time."""
    history = polled(*((t, 5, 5) for t in range(0, 60, 5)), (60, 5, 6), (65, 5, 6))
    assert evaluate_polled(history, now=65, window_sec=WINDOW) is LagStatus.OK


def test_polled_rewind_and_warn_and_ok() -> None:
    assert (
        evaluate_polled(polled((0, 5, 10), (10, 8, 12), (20, 3, 12)), now=20, window_sec=WINDOW)
        is LagStatus.REWIND
    )
    growing = polled((0, 1, 5), (10, 2, 8), (20, 3, 12), (30, 4, 20))
    assert evaluate_polled(growing, now=30, window_sec=WINDOW) is LagStatus.WARN
    assert evaluate_polled(polled((0, 5, 5)), now=100, window_sec=WINDOW) is LagStatus.OK


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 50)), min_size=1, max_size=40))
def test_polled_an_advancing_consumer_is_never_stalled_stopped_or_rewound(
    steps: list[tuple[int, int]],
) -> None:
    committed, end, history = 0, 0, []
    for i, (advance, produced) in enumerate(steps):
        end += produced
        committed = min(end, committed + advance + 1) if end > committed else committed
        history.append(Sample(i * 5.0, committed, end))
    status = evaluate_polled(
        history, now=(len(steps) - 1) * 5.0, window_sec=WINDOW, worker_beating=False
    )
    moved = all(b.committed != a.committed or b.lag == 0 for a, b in pairwise(history))
    if moved:
        assert status in (LagStatus.OK, LagStatus.WARN)


@given(st.integers(1, 12), st.booleans())
def test_polled_a_frozen_consumer_behind_is_stalled_or_stopped_after_a_window(
    extra_samples: int, beating: bool
) -> None:
    history = [Sample(t * 5.0, 7, 20) for t in range(7 + extra_samples)]
    now = history[-1].time
    status = evaluate_polled(history, now=now, window_sec=WINDOW, worker_beating=beating)
    assert status in (LagStatus.STALL, LagStatus.STOP)
    assert (status is LagStatus.STOP) == (now > 2 * WINDOW or not beating)
