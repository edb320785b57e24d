"""A process left behind is known by its mark, so a reused PID is never signalled."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from switchboard.runtime.processes import ProcessMark


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


def test_a_live_process_has_a_mark_that_reads_back(sleeper: subprocess.Popen[bytes]) -> None:
    mark = ProcessMark.of(sleeper.pid)
    assert mark is not None and mark.is_alive()
    assert ProcessMark.from_json(mark.to_json()) == mark


def test_stop_ends_the_marked_process(sleeper: subprocess.Popen[bytes]) -> None:
    mark = ProcessMark.of(sleeper.pid)
    assert mark is not None
    assert mark.stop(timeout=5)
    assert sleeper.wait(timeout=5) < 0
    assert ProcessMark.of(sleeper.pid) is None


def test_a_pid_now_held_by_another_process_is_left_alone(
    sleeper: subprocess.Popen[bytes],
) -> None:
    mark = ProcessMark.of(sleeper.pid)
    assert mark is not None
    earlier_process = dataclasses.replace(mark, start_ticks=mark.start_ticks - 1)
    assert not earlier_process.is_alive()
    assert not earlier_process.stop(timeout=1)
    assert sleeper.poll() is None


@pytest.mark.parametrize("record", [None, {}, {"pid": "x"}, {"pid": 1}, [], "garbage"])
def test_a_damaged_record_is_no_mark(record: object) -> None:
    assert ProcessMark.from_json(record) is None


def test_a_child_started_dying_with_its_parent_dies_when_the_parent_is_killed() -> None:
    # The parent starts a child that would sleep a minute, prints its PID, and is SIGKILLed.
    parent_code = (
        "import subprocess, os, signal\n"
        "from switchboard.runtime.processes import dying_with_parent\n"
        "child = subprocess.Popen(['sleep', '60'], preexec_fn=dying_with_parent())\n"
        "print(child.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    parent = subprocess.run(
        [sys.executable, "-c", parent_code], capture_output=True, timeout=30, check=False
    )
    child_pid = int(parent.stdout)
    deadline = time.monotonic() + 10
    while ProcessMark.of(child_pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ProcessMark.of(child_pid) is None
