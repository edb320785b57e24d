"""`switchboard` subcommands as child processes, and the probe that says a server is up.

Shared by `switchboard up`, the end-to-end tests and the benchmarks, which all supervise the
same commands the same way: started by handle, stopped by handle, never by name. A process
another run left behind is known by its `ProcessMark`, so a reused PID is never signalled.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STOP_TIMEOUT_SEC = 20
PR_SET_PDEATHSIG = 1
# Loaded before any fork: the child between fork and exec should do as little as possible.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def dying_with_parent(sig: signal.Signals = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel send `sig` to the child when its parent dies.

    The kernel ties this to the forking thread, so call Popen from a thread that lives as
    long as the process (the main thread). None where the kernel has no such feature.
    """
    if _LIBC is None:
        return None
    parent = os.getpid()
    libc = _LIBC

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        # The parent may have died between fork and prctl: nobody would send the signal then.
        if os.getppid() != parent:
            os.kill(os.getpid(), sig)

    return preexec


def _boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().strip()


@dataclass(frozen=True)
class ProcessMark:
    """A process as the kernel knows it: PID, start time since boot, and that boot's id.

    A PID is reused after its process ends; the three together never are.
    """

    pid: int
    start_ticks: int
    boot_id: str

    @classmethod
    def of(cls, pid: int) -> ProcessMark | None:
        """The mark of a running process, or None if there is no such live process."""
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            boot_id = _boot_id()
        except OSError:
            return None
        # The command name in parentheses may itself hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[1].split()
        state, start_ticks = fields[0], int(fields[19])
        if state in ("Z", "X"):
            return None
        return cls(pid, start_ticks, boot_id)

    @classmethod
    def from_json(cls, data: Any) -> ProcessMark | None:
        """A mark read back from a record, or None if the record is not one."""
        try:
            return cls(int(data["pid"]), int(data["start_ticks"]), str(data["boot_id"]))
        except (KeyError, TypeError, ValueError):
            return None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def is_alive(self) -> bool:
        return ProcessMark.of(self.pid) == self

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 10) -> bool:
        """Sends `sig`, then SIGKILL after `timeout`; True if this very process was running.

        The pidfd pins the process: once its mark is checked, the signal cannot reach a
        process that took over the PID.
        """
        try:
            pidfd = os.pidfd_open(self.pid)
        except OSError:
            return False
        try:
            if not self.is_alive():
                return False
            signal.pidfd_send_signal(pidfd, sig)
            if not _wait_readable(pidfd, timeout):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                _wait_readable(pidfd, timeout)
            return True
        except ProcessLookupError:
            return True
        finally:
            os.close(pidfd)


def _wait_readable(fd: int, timeout: float) -> bool:
    """A pidfd becomes readable when its process has exited."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if poller.poll(left * 1000):
            return True
    return False


def http_answers(url: str) -> bool:
    """True once the server answers at all: a 503 (a dependency still starting) counts."""
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


class ChildProcess:
    """`python -m switchboard COMMAND`, with its output in `log_path` (or inherited)."""

    def __init__(
        self,
        command: str,
        env: dict[str, str],
        log_path: Path | None = None,
        *,
        cwd: Path | None = None,
        own_session: bool = False,
        die_with_parent: bool = False,
    ) -> None:
        self.command = command
        self.env = env
        self.log_path = log_path
        self.cwd = cwd
        # A session of its own keeps a terminal's Ctrl-C for the supervisor to pass on in order.
        self.own_session = own_session
        # SIGTERM from the kernel when the parent dies, however it dies: no orphan lives on.
        self.die_with_parent = die_with_parent
        self.process: subprocess.Popen[bytes] | None = None
        self._terminated = False

    def start(self) -> ChildProcess:
        self._terminated = False
        output = self.log_path.open("ab") if self.log_path else None
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "switchboard", self.command],
                env={**os.environ, **self.env},
                cwd=self.cwd,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=self.own_session,
                preexec_fn=dying_with_parent() if self.die_with_parent else None,
            )
        finally:
            if output:
                output.close()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    @property
    def mark(self) -> ProcessMark | None:
        return ProcessMark.of(self.pid)

    def exit_status(self) -> int | None:
        return self.process.poll() if self.process else None

    def exited(self) -> bool:
        return self.exit_status() is not None

    def terminate(self) -> None:
        """SIGTERM, once, without waiting: a second one may cut a worker's shutdown short."""
        if self.process is None or self.process.poll() is not None or self._terminated:
            return
        self._terminated = True
        self.process.terminate()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within STOP_TIMEOUT_SEC."""
        if self.process is None or self.process.poll() is not None:
            return
        self.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SEC)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no final commit, no flush."""
        assert self.process is not None, "not started"
        self.process.kill()
        self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None:
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
