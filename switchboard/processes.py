"""`switchboard` subcommands as child processes, and the probe that says a server is up.

Shared by `switchboard up`, the end-to-end tests and the benchmarks, which all supervise the
same commands the same way: started by handle, stopped by handle, never by name.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

STOP_TIMEOUT_SEC = 20


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
    ) -> None:
        self.command = command
        self.env = env
        self.log_path = log_path
        self.cwd = cwd
        # A session of its own keeps a terminal's Ctrl-C for the supervisor to pass on in order.
        self.own_session = own_session
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ChildProcess:
        output = self.log_path.open("ab") if self.log_path else None
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "switchboard", self.command],
                env={**os.environ, **self.env},
                cwd=self.cwd,
                stdout=output,
                stderr=subprocess.STDOUT if output else None,
                start_new_session=self.own_session,
            )
        finally:
            if output:
                output.close()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def exit_status(self) -> int | None:
        return self.process.poll() if self.process else None

    def exited(self) -> bool:
        return self.exit_status() is not None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within STOP_TIMEOUT_SEC."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
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
