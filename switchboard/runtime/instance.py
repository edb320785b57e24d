"""One `switchboard up` per home directory, and the cleanup after one that crashed.

The running `up` holds an exclusive lock on `up.lock`. The kernel drops the lock when the
process ends, however it ends, so a free lock proves the previous `up` is gone and that
whatever it left behind (listed in `processes.json`, and PostgreSQL's own `postmaster.pid`) is
an orphan to stop, never a stack to attach to.
"""

from __future__ import annotations

import fcntl
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from switchboard.runtime.embedded import clear_stale_database
from switchboard.runtime.processes import ProcessMark
from switchboard.runtime.supervision import replica_kind

LOCK_NAME = "up.lock"
PROCESSES_NAME = "processes.json"
RUNTIME_NAME = "runtime.json"
EMBEDDED_DATABASE_NAME = "pgdata"
# The order a stack is stopped in: consumers of a service before the service.
STOP_ORDER = ("worker", "api", "broker")
LEFTOVER_STOP_TIMEOUT_SEC = 15


class AlreadyRunning(Exception):
    def __init__(self, pid: int | None) -> None:
        super().__init__(f"switchboard up is already running (pid {pid})")
        self.pid = pid


@dataclass
class Instance:
    """The lock of the running `up`, held for as long as its file descriptor stays open."""

    home: Path
    fd: int
    # Whoever held the lock last: after a crash, the `up` whose leftovers are cleaned up.
    previous_pid: int | None = None

    def record(self, processes: dict[str, dict[str, Any]]) -> None:
        """Writes what is running now, atomically: a crash mid-write must leave a readable file."""
        path = self.home / PROCESSES_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps({"processes": processes}, option=orjson.OPT_INDENT_2))
        tmp.replace(path)

    def release(self) -> None:
        (self.home / PROCESSES_NAME).unlink(missing_ok=True)
        os.close(self.fd)


def acquire(home: Path) -> Instance:
    """The lock of `home`, or AlreadyRunning with the PID of the `up` holding it."""
    home.mkdir(parents=True, exist_ok=True)
    # Not inherited by children (Python's default), so an orphaned child cannot hold it.
    fd = os.open(home / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_pid(fd)
        os.close(fd)
        raise AlreadyRunning(holder) from None
    previous = _read_pid(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return Instance(home, fd, previous)


def _read_pid(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError):
        return None


@dataclass
class Leftovers:
    """What a crashed `up` had left: its runtime file, and the processes that were stopped."""

    previous_pid: int | None
    stale_runtime: bool = False
    stopped: list[str] = field(default_factory=list)

    def summary(self) -> str | None:
        if not self.stale_runtime and not self.stopped:
            return None
        who = f"up (pid {self.previous_pid})" if self.previous_pid else "up"
        what = ", ".join(self.stopped) if self.stopped else "nothing was still running"
        return f"the previous switchboard {who} did not stop cleanly; stopped what it left: {what}"


def clean_up_after_crash(instance: Instance) -> Leftovers:
    """Stops the processes a crashed `up` of this home left running and drops its records.

    Call with the lock held: then no live `up` owns any of them.
    """
    home = instance.home
    leftovers = Leftovers(instance.previous_pid, stale_runtime=(home / RUNTIME_NAME).exists())
    recorded = _recorded_processes(home / PROCESSES_NAME)
    for name in sorted(recorded, key=_stop_rank):
        mark = ProcessMark.from_json(recorded[name])
        if mark and mark.stop(signal.SIGTERM, timeout=LEFTOVER_STOP_TIMEOUT_SEC):
            leftovers.stopped.append(f"{name} (pid {mark.pid})")
    if (home / EMBEDDED_DATABASE_NAME).is_dir():
        postgres = clear_stale_database(home / EMBEDDED_DATABASE_NAME)
        if postgres is not None:
            leftovers.stopped.append(f"database (pid {postgres})")
    (home / RUNTIME_NAME).unlink(missing_ok=True)
    (home / PROCESSES_NAME).unlink(missing_ok=True)
    return leftovers


def _stop_rank(name: str) -> int:
    kind = replica_kind(name)
    return STOP_ORDER.index(kind) if kind in STOP_ORDER else -1


def _recorded_processes(path: Path) -> dict[str, Any]:
    """The record as written, or nothing when it is missing or unreadable."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    processes = data.get("processes") if isinstance(data, dict) else None
    return processes if isinstance(processes, dict) else {}
