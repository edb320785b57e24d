"""`switchboard up` as a user runs it: a real process tree, crashed, killed and restarted.

Every test starts `python -m switchboard up` in a home of its own, with the embedded broker;
the embedded PostgreSQL only where it is what is tested (the machine's is faster to start).
Children are found through `up`'s own record of them, never by name.
"""

from __future__ import annotations

import fcntl
import http.client
import os
import select
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from switchboard.runtime.embedded import clear_stale_database, free_port
from switchboard.runtime.processes import ChildProcess, ProcessMark
from switchboard.runtime.supervision import Backoff, Supervisor
from switchboard.runtime.up import port_is_free
from tests.support.stack import wait_until

pytestmark = pytest.mark.integration

READY = "ready; Ctrl-C stops everything"
START_TIMEOUT_SEC = 90


@dataclass
class Up:
    """One `switchboard up` process, its home and its output."""

    home: Path
    api_port: int
    database_url: str | None
    # One unless a test is about several: the others supervise one worker, as they always did.
    workers: int = 1
    settings: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] = field(init=False)
    log_path: Path = field(init=False)

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SWITCHBOARD_", "KAFKA_", "DATABASE_", "SCHEMA_REGISTRY_"))
        }
        env |= {
            "SWITCHBOARD_HOME": str(self.home),
            "SWITCHBOARD_API_PORT": str(self.api_port),
            "SWITCHBOARD_WORKER_WEB_PORT": "0",
        }
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env | self.settings

    def command(self) -> list[str]:
        return [sys.executable, "-m", "switchboard", "up", "--workers", str(self.workers)]

    def start(self) -> Up:
        self.log_path = self.home.parent / f"up-{self.home.name}-{os.urandom(3).hex()}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> Up:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"up exited with {self.process.returncode}:\n{self.tail()}")
            return READY in self.output()

        try:
            wait_until(ready, timeout=START_TIMEOUT_SEC, interval=0.2, what="up to be ready")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.tail()}") from None
        return self

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def signal_and_wait(self, sig: signal.Signals, timeout: float = 60) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def runtime(self) -> dict[str, Any]:
        data: dict[str, Any] = orjson.loads((self.home / "runtime.json").read_bytes())
        return data

    def processes(self) -> dict[str, Any]:
        try:
            data = orjson.loads((self.home / "processes.json").read_bytes())
        except FileNotFoundError:
            return {}
        processes: dict[str, Any] = data["processes"]
        return processes

    def marks(self) -> dict[str, ProcessMark]:
        marks = {name: ProcessMark.from_json(entry) for name, entry in self.processes().items()}
        return {name: mark for name, mark in marks.items() if mark}

    def log_events(self, event: str) -> list[dict[str, Any]]:
        found = []
        for line in self.output().splitlines():
            if line.startswith("{") and f'"{event}"' in line:
                found.append(orjson.loads(line))
        return found


def http_status(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5):
            return 200
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().split("\n", 1)[0])


def handle_pids(home: Path) -> list[int]:
    pids: list[int] = orjson.loads((home / "pgdata" / ".handle_pids.json").read_bytes())
    return pids


@pytest.fixture
def start_up(tmp_path: Path) -> Iterator[Callable[..., Up]]:
    """Starts `up` processes; whatever is left of them at the end is stopped by its mark."""
    started: list[Up] = []

    def start(
        home: Path | None = None,
        database_url: str | None = None,
        api_port: int | None = None,
        **options: Any,
    ) -> Up:
        up = Up(home or tmp_path / "home", api_port or free_port(), database_url, **options)
        up.start()
        started.append(up)
        return up

    yield start
    for up in reversed(started):
        if up.process.poll() is None:
            up.process.kill()
            up.process.wait()
        for mark in up.marks().values():
            mark.stop(timeout=10)
        if (up.home / "pgdata").is_dir():
            clear_stale_database(up.home / "pgdata")


def restarted(up: Up, name: str, times: int, old_pid: int) -> Callable[[], bool]:
    def probe() -> bool:
        child = up.processes().get(name, {})
        return bool(child.get("restarts") == times and child.get("pid") not in (None, old_pid))

    return probe


def test_a_killed_worker_is_restarted_with_backoff_and_nothing_else_is(
    start_up: Callable[..., Up], make_database: Callable[[], str]
) -> None:
    up = start_up(database_url=make_database()).wait_ready()
    before = up.marks()
    assert {"broker", "api", "worker"} <= before.keys()

    os.kill(before["worker"].pid, signal.SIGKILL)
    wait_until(restarted(up, "worker", 1, before["worker"].pid), timeout=30, what="a restart")
    # Killed again at once: a crash loop, so the wait doubles.
    second_pid = up.marks()["worker"].pid
    os.kill(second_pid, signal.SIGKILL)
    wait_until(restarted(up, "worker", 2, second_pid), timeout=30, what="a second restart")

    after = up.marks()
    assert after["worker"].is_alive()
    assert after["api"] == before["api"] and after["api"].is_alive()
    assert after["broker"] == before["broker"] and after["broker"].is_alive()
    assert up.processes()["worker"]["last_exit"] == "SIGKILL"
    exits = [(e["child"], e["exit"], e["restart_in_sec"]) for e in up.log_events("child exited")]
    assert exits == [("worker", "SIGKILL", 1.0), ("worker", "SIGKILL", 2.0)]
    restarts = [(e["child"], e["restarts"]) for e in up.log_events("child restarted")]
    assert restarts == [("worker", 1), ("worker", 2)]
    wait_until(lambda: http_status(f"{up.url}/health") == 200, timeout=60, what="/health 200")

    # A closed terminal stops everything as Ctrl-C does.
    assert up.signal_and_wait(signal.SIGHUP) == 0
    assert not any(mark.is_alive() for mark in after.values())
    assert not (up.home / "runtime.json").exists()


def test_up_with_two_workers_runs_both_restarts_the_killed_one_and_stops_both(
    start_up: Callable[..., Up], make_database: Callable[[], str]
) -> None:
    # One partition for two workers: allowed, and said.
    settings = {"SWITCHBOARD_TOPIC_PARTITIONS": "1", "SWITCHBOARD_WORKER_WEB_PORT": "0"}
    up = start_up(database_url=make_database(), workers=2, settings=settings).wait_ready()
    before = up.marks()
    assert {"broker", "api", "worker-1", "worker-2", "deliver"} == before.keys()
    [line] = [line for line in up.output().splitlines() if line.startswith("  workers ")]
    assert line.split(None, 1)[1] == (
        f"2 in consumer group switchboard: worker-1 (pid {before['worker-1'].pid}),"
        f" worker-2 (pid {before['worker-2'].pid})"
    )
    [idle] = up.log_events("more workers than partitions: the extra ones stay idle")
    assert (idle["workers"], idle["partitions"], idle["idle"]) == (2, 1, 1)

    os.kill(before["worker-2"].pid, signal.SIGKILL)
    wait_until(restarted(up, "worker-2", 1, before["worker-2"].pid), timeout=30, what="a restart")
    after = up.marks()
    assert after["worker-1"] == before["worker-1"] and after["worker-1"].is_alive()
    assert after["api"] == before["api"]
    exits = [(e["child"], e["exit"]) for e in up.log_events("child exited")]
    assert exits == [("worker-2", "SIGKILL")]

    assert up.signal_and_wait(signal.SIGTERM) == 0
    assert not any(mark.is_alive() for mark in after.values())


def test_a_killed_api_is_restarted_on_its_port(
    start_up: Callable[..., Up], make_database: Callable[[], str]
) -> None:
    up = start_up(database_url=make_database()).wait_ready()
    before = up.marks()
    token = up.runtime()["token"]

    os.kill(before["api"].pid, signal.SIGKILL)
    wait_until(restarted(up, "api", 1, before["api"].pid), timeout=30, what="the API restart")
    wait_until(lambda: http_status(f"{up.url}/api/calls", token) == 200, timeout=60, what="the API")
    after = up.marks()
    assert after["worker"] == before["worker"] and after["worker"].is_alive()
    assert after["broker"] == before["broker"] and after["broker"].is_alive()
    assert up.signal_and_wait(signal.SIGTERM) == 0
    assert not any(mark.is_alive() for mark in after.values())


def test_after_up_is_killed_the_next_up_cleans_up_and_serves(
    start_up: Callable[..., Up], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    first = start_up(home).wait_ready()
    children = first.marks()
    assert {"broker", "api", "worker"} <= children.keys()
    first_token = first.runtime()["token"]
    first_postgres = ProcessMark.of(postmaster_pid(home))
    assert first_postgres is not None

    first.process.kill()
    first.process.wait()

    # Broker, API and worker die with it; pgserver's PostgreSQL is no child of ours and lives on
    # behind a stale runtime file and a handle file naming the dead `up`.
    wait_until(
        lambda: not any(mark.is_alive() for mark in children.values()),
        timeout=60,
        what="the children to die with up",
    )
    assert first_postgres.is_alive()
    assert handle_pids(home) == [first.process.pid]
    assert (home / "runtime.json").exists()

    second = start_up(home, api_port=first.api_port).wait_ready()
    assert (
        f"switchboard: the previous switchboard up (pid {first.process.pid}) did not stop "
        f"cleanly; stopped what it left: database (pid {first_postgres.pid})"
    ) in second.output().splitlines()
    assert not first_postgres.is_alive()
    assert handle_pids(home) == [second.process.pid]
    assert second.runtime()["pid"] == second.process.pid
    # The same database, data and all: the first run's token still opens the API.
    assert http_status(f"{second.url}/api/calls", first_token) == 200
    assert "Traceback" not in second.output()

    second_postgres = ProcessMark.of(postmaster_pid(home))
    assert second.signal_and_wait(signal.SIGINT) == 0
    assert second_postgres is not None and not second_postgres.is_alive()
    assert not any(mark.is_alive() for mark in second.marks().values())


def _take_terminal() -> None:
    """In the child, after setsid: stdin's terminal becomes its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@dataclass
class Terminal:
    """A pseudo-terminal whose output is drained, so `up` never blocks writing to it."""

    master: int
    output: bytearray = field(default_factory=bytearray)
    closing: threading.Event = field(default_factory=threading.Event)

    def drain(self) -> None:
        while not self.closing.is_set():
            if select.select([self.master], [], [], 0.1)[0]:
                try:
                    self.output += os.read(self.master, 65536)
                except OSError:
                    return


def test_a_closed_terminal_stops_everything_and_frees_the_ports(
    make_database: Callable[[], str], tmp_path: Path
) -> None:
    up = Up(tmp_path / "home", free_port(), make_database())
    master, slave = os.openpty()
    process = subprocess.Popen(
        up.command(),
        env=up.env(),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=_take_terminal,
    )
    os.close(slave)
    terminal = Terminal(master)
    reader = threading.Thread(target=terminal.drain, daemon=True)
    reader.start()
    try:
        wait_until(
            lambda: READY.encode() in terminal.output or process.poll() is not None,
            timeout=START_TIMEOUT_SEC,
            what="up to be ready",
        )
        assert process.poll() is None, terminal.output.decode(errors="replace")[-3000:]
        marks = up.marks()
        broker_port = int(up.runtime()["kafka_bootstrap_servers"].rsplit(":", 1)[1])
    finally:
        terminal.closing.set()
        reader.join()
        os.close(master)  # the terminal window closes: the kernel sends SIGHUP

    try:
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        for mark in marks.values():
            mark.stop(timeout=10)
    assert {"broker", "api", "worker"} <= marks.keys()
    assert not any(mark.is_alive() for mark in marks.values())
    assert not (up.home / "runtime.json").exists()
    assert port_is_free(up.api_port) and port_is_free(broker_port)


@pytest.fixture
def bystander() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated process: a stale record naming its PID must not touch it."""
    process = subprocess.Popen(["sleep", "300"])
    yield process
    process.kill()
    process.wait()


@pytest.mark.parametrize("damage", ["stale", "corrupt"])
def test_a_stale_or_corrupt_runtime_file_gives_a_clean_start(
    damage: str,
    start_up: Callable[..., Up],
    make_database: Callable[[], str],
    tmp_path: Path,
    bystander: subprocess.Popen[bytes],
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    mark = ProcessMark.of(bystander.pid)
    assert mark is not None
    if damage == "stale":
        runtime: dict[str, Any] = {
            "kafka_bootstrap_servers": "127.0.0.1:1",
            "database_url": "postgresql://postgres@127.0.0.1:1/gone",
            "api_port": 1,
            "api_url": "http://127.0.0.1:1",
            "token": "sbt_gone",
            "pid": bystander.pid,
        }
        (home / "runtime.json").write_bytes(orjson.dumps(runtime))
        # The bystander took over the worker's PID: same PID, another start time.
        reused = {"pid": mark.pid, "start_ticks": mark.start_ticks - 1, "boot_id": mark.boot_id}
        (home / "processes.json").write_bytes(orjson.dumps({"processes": {"worker": reused}}))
    else:
        (home / "runtime.json").write_bytes(b'{"kafka_bootstrap_servers": "127.0.0.1:1", \x00')
        (home / "processes.json").write_bytes(b"[1, 2")

    up = start_up(home, database_url=make_database()).wait_ready()

    output = up.output()
    assert "Traceback" not in output
    [notice] = [line for line in output.splitlines() if "did not stop cleanly" in line]
    assert notice.endswith("nothing was still running")
    assert bystander.poll() is None
    runtime = up.runtime()
    assert runtime["pid"] == up.process.pid
    assert runtime["api_port"] == up.api_port
    assert runtime["kafka_bootstrap_servers"] != "127.0.0.1:1"
    assert http_status(f"{up.url}/api/calls", runtime["token"]) == 200


def _plain_bind_fails(port: int) -> bool:
    """What the port check did before: a bind without SO_REUSEADDR, refused in TIME_WAIT."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def test_up_right_after_ctrl_c_takes_the_same_port(
    start_up: Callable[..., Up], make_database: Callable[[], str], tmp_path: Path
) -> None:
    database_url = make_database()
    first = start_up(database_url=database_url).wait_ready()
    # Keep-alive connections the server closes on its way down leave its port in TIME_WAIT.
    clients = [http.client.HTTPConnection("127.0.0.1", first.api_port) for _ in range(3)]
    for client in clients:
        client.request("GET", "/health")
        client.getresponse().read()
    assert first.signal_and_wait(signal.SIGINT) == 0
    for client in clients:
        client.close()
    assert _plain_bind_fails(first.api_port), "the port is free: the test proves nothing"

    second = start_up(tmp_path / "home", database_url, first.api_port).wait_ready()
    assert "is taken" not in second.output()
    assert http_status(f"{second.url}/health") in (200, 503)
    assert second.signal_and_wait(signal.SIGINT) == 0


def test_a_second_up_is_refused_while_one_runs(
    start_up: Callable[..., Up], make_database: Callable[[], str], tmp_path: Path
) -> None:
    running = start_up(database_url=make_database()).wait_ready()
    runtime_before = running.runtime()

    second = Up(tmp_path / "home", free_port(), None)
    refused = subprocess.run(
        second.command(), env=second.env(), capture_output=True, timeout=60, check=False
    )

    assert refused.returncode == 2
    assert refused.stderr.decode().strip() == (
        f"switchboard is already running (pid {running.process.pid}), API at {running.url}"
    )
    assert refused.stdout == b""
    assert running.runtime() == runtime_before
    assert all(mark.is_alive() for mark in running.marks().values())
    assert running.signal_and_wait(signal.SIGTERM) == 0


def test_a_crash_loop_is_counted_and_backs_off_but_never_gives_up() -> None:
    records: list[dict[str, Any]] = []
    # A real child that fails at once, every time: an unknown subcommand exits with status 2.
    supervisor = Supervisor(
        spawn=lambda name: ChildProcess("no-such-command", {}).start(),
        on_change=lambda children: records.append(children["failing"]),
        backoff=Backoff(initial_sec=0.1, max_sec=0.4, reset_after_sec=60),
    )
    supervisor.start("failing")

    def restarted_four_times() -> bool:
        supervisor.poll(time.monotonic())
        return supervisor.children["failing"].restarts >= 4

    try:
        wait_until(restarted_four_times, timeout=60, interval=0.05, what="four restarts")
    finally:
        supervisor.stop_all()
    child = supervisor.children["failing"]
    assert child.crashes_in_a_row >= 4
    assert records[-1]["restarts"] == 4
    assert records[-1]["last_exit"] == "status 2"
    assert supervisor.backoff.delay(child.crashes_in_a_row) == 0.4
