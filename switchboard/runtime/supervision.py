"""`switchboard up` keeps its workers and API running: a child that dies is started again.

The restart policy is plain arithmetic (`Backoff`); `Supervisor` applies it to processes.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

import structlog

from switchboard.runtime.processes import ChildProcess

log = structlog.get_logger(__name__)

POLL_INTERVAL_SEC = 0.5


@dataclass(frozen=True)
class Backoff:
    """Exponential delays between restarts, forgiven once a child has run for a while."""

    initial_sec: float = 1.0
    max_sec: float = 30.0
    # A child that stayed up this long was healthy: its next crash is its first in a row.
    reset_after_sec: float = 60.0

    def delay(self, crashes_in_a_row: int) -> float:
        """The wait before restarting a child that has crashed this many times in a row."""
        doublings = min(max(crashes_in_a_row - 1, 0), 32)
        return float(min(self.max_sec, self.initial_sec * 2**doublings))

    def crashes_in_a_row(self, before: int, uptime_sec: float) -> int:
        """The count after one more crash, `uptime_sec` after the child was started."""
        return 1 if uptime_sec >= self.reset_after_sec else before + 1


def replica_kind(name: str) -> str:
    """What a child is a replica of: `worker` for `worker-2`; a lone child is its own kind."""
    return name.partition("-")[0]


def describe_exit(status: int | None) -> str:
    """Popen's returncode in words: a negative one is the signal that ended the process."""
    if status is None:
        return "running"
    if status < 0:
        try:
            return signal.Signals(-status).name
        except ValueError:
            return f"signal {-status}"
    return f"status {status}"


@dataclass
class Supervised:
    """One named child and its restart history."""

    name: str
    process: ChildProcess
    started_at: float
    restarts: int = 0
    crashes_in_a_row: int = 0
    last_exit: int | None = None
    restart_at: float | None = None  # set while it waits out its backoff

    def as_record(self) -> dict[str, Any]:
        mark = self.process.mark if self.restart_at is None else None
        return {
            **(mark.to_json() if mark else {}),
            "restarts": self.restarts,
            "last_exit": describe_exit(self.last_exit) if self.last_exit is not None else None,
        }


@dataclass
class Supervisor:
    """Starts children by name, restarts those that exit, and stops them newest first.

    `spawn` starts a child's process; `on_change` hears of every start and exit, so that a
    record of the running processes can be kept for whoever cleans up after a crash.
    """

    spawn: Callable[[str], ChildProcess]
    on_change: Callable[[dict[str, dict[str, Any]]], None]
    backoff: Backoff = field(default_factory=Backoff)
    children: dict[str, Supervised] = field(default_factory=dict)

    def start(self, name: str) -> ChildProcess:
        process = self.spawn(name)
        self.children[name] = Supervised(name, process, time.monotonic())
        self._changed()
        return process

    def run_forever(self) -> None:
        while True:
            self.poll(time.monotonic())
            time.sleep(POLL_INTERVAL_SEC)

    def poll(self, now: float) -> None:
        for child in self.children.values():
            if child.restart_at is None and child.process.exited():
                self._exited(child, now)
            elif child.restart_at is not None and now >= child.restart_at:
                self._restart(child, now)

    def stop_all(self) -> None:
        """Newest first: the workers before the API they were started after. Replicas of one
        kind (`worker-1`, `worker-2`) are told together, then awaited: stopped one by one, each
        survivor would spend its last seconds taking over the partitions of the one before."""
        newest_first = list(reversed(self.children.values()))
        for _, replicas in groupby(newest_first, key=lambda child: replica_kind(child.name)):
            together = list(replicas)
            for child in together:
                child.process.terminate()
            for child in together:
                child.process.stop()

    def _exited(self, child: Supervised, now: float) -> None:
        child.last_exit = child.process.exit_status()
        child.crashes_in_a_row = self.backoff.crashes_in_a_row(
            child.crashes_in_a_row, now - child.started_at
        )
        delay = self.backoff.delay(child.crashes_in_a_row)
        child.restart_at = now + delay
        log.warning(
            "child exited",
            child=child.name,
            pid=child.process.pid,
            exit=describe_exit(child.last_exit),
            restarts=child.restarts,
            crashes_in_a_row=child.crashes_in_a_row,
            restart_in_sec=delay,
        )
        self._changed()

    def _restart(self, child: Supervised, now: float) -> None:
        child.process = self.spawn(child.name)
        child.started_at = now
        child.restart_at = None
        child.restarts += 1
        log.warning(
            "child restarted",
            child=child.name,
            pid=child.process.pid,
            restarts=child.restarts,
            last_exit=describe_exit(child.last_exit),
        )
        self._changed()

    def _changed(self) -> None:
        self.on_change({name: child.as_record() for name, child in self.children.items()})
