"""The product a supervisor opens the dashboard on: `switchboard up` as a newcomer runs it, a
fake RetailCRM wired to one tenant, simulated traffic, and a token per viewer.

Shared by tests/browser/conftest.py and the screenshot helper (tests/browser/screenshots.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import requests

from switchboard.runtime.embedded import free_port
from tests.support.stack import wait_until
from tests.support.up import second_terminal, start_up, stop_up

TENANT = "0367"
OTHER = "0368"
# The simulator's third tenant: traffic the two tenants' tokens must not see either.
THIRD = "0412"
CRM_KEY = "browser-retailcrm-key-5c2e"
# The simulated PBX's extensions (switchboard/simulation/pbx.py): 150-165.
USER_MAPPINGS = {str(extension): extension - 140 for extension in range(150, 166)}
# Small windows, so that a stopped worker shows within seconds; one worker, so that stopping
# it stops the whole consumer group (a second one would take its partitions over).
UP_ENV = {
    "SWITCHBOARD_WORKERS": "1",
    "SWITCHBOARD_STALL_WINDOW_SEC": "6",
    "SWITCHBOARD_LAG_SAMPLE_INTERVAL_SEC": "1",
}
TRAFFIC = (
    *("--calls-per-hour", "20000", "--agents", "12"),
    *("--bot-calls-per-hour", "7200", "--deal-rate", "3"),
)


@dataclass(frozen=True)
class Stack:
    home: Path
    api_url: str
    dashboard_url: str
    # Bearer tokens: one tenant's, the other's, and an admin one of the first.
    tenant: str
    other: str
    admin: str
    up_pid: int

    def get(self, path: str, token: str, **params: Any) -> Any:
        """The API's JSON answer to GET `path`, as a client of the dashboard's token sees it."""
        answer = requests.get(
            f"{self.api_url}{path}",
            params={k: v for k, v in params.items() if v is not None},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:500]}"
        return answer.json()

    def worker_pids(self) -> list[int]:
        """The consumer group's processes, as `up` records them."""
        processes = orjson.loads((self.home / "processes.json").read_bytes())["processes"]
        return [int(p["pid"]) for name, p in processes.items() if name.startswith("worker")]


def switchboard(home: Path, *args: str, timeout: float = 300) -> str:
    """A `switchboard` command, as a newcomer runs it beside `up`; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "switchboard", *args],
        env=second_terminal(home),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"switchboard {' '.join(args)}: {done.stderr[-3000:]}"
    return done.stdout


def simulate(home: Path, seed: int, *options: str) -> None:
    """A few seconds of every scenario's traffic, as fast as the broker takes it."""
    switchboard(
        home,
        "simulate",
        *("--duration", "4", "--rate", "2", "--speed", "0", "--seed", str(seed)),
        *options,
    )


def drained(stack: Stack) -> bool:
    """Whether the worker has read everything produced so far (as `/api/lag` reports it)."""
    lag = stack.get("/api/lag", stack.admin)
    return all(p["lag"] == 0 for p in lag["partitions"])


@contextmanager
def fake_crm(workdir: Path) -> Iterator[str]:
    """The fake RetailCRM in its own process, on loopback; its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.support.fake_crm", "--port", str(port)),
            *("--record", str(workdir / "crm.jsonl"), "--api-key", CRM_KEY),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "ready" in process.stdout.readline()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def running_stack(bootstrap: str, workdir: Path) -> Iterator[Stack]:
    """`up` on `workdir`'s home, with a tenant's CRM wired and traffic in, its worker drained."""
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    with fake_crm(workdir) as crm_url:
        up, runtime = start_up(home, bootstrap, **UP_ENV)
        try:
            stack = Stack(
                home=home,
                api_url=str(runtime["api_url"]),
                dashboard_url=str(runtime["dashboard_url"]),
                tenant=_token(home, TENANT),
                other=_token(home, OTHER),
                admin=_token(home, TENANT, "--admin"),
                up_pid=up.pid,
            )
            _wire_crm(stack, crm_url)
            # Enough of each for every page to have figures: calls and bot calls per tenant,
            # deals across the business domains.
            simulate(home, 14, *TRAFFIC)
            wait_until(lambda: drained(stack), timeout=120, what="the worker to catch up")
            yield stack
        finally:
            _resume_workers(home)
            stop_up(up, home)


def _token(home: Path, enterprise: str, *flags: str) -> str:
    return switchboard(
        home, "token", "create", "--enterprise", enterprise, "--name", "browser", *flags
    ).strip()


def _wire_crm(stack: Stack, crm_url: str) -> None:
    saved = requests.put(
        f"{stack.api_url}/api/integrations/{TENANT}/retailcrm",
        json={"api_url": crm_url, "api_key": CRM_KEY, "user_mappings": USER_MAPPINGS},
        headers={"Authorization": f"Bearer {stack.admin}"},
        timeout=30,
    )
    assert saved.status_code == 200, saved.text


def _resume_workers(home: Path) -> None:
    """A test that stopped a worker and failed must not leave `up` unable to stop it."""
    path = home / "processes.json"
    if not path.exists():
        return
    for name, process in orjson.loads(path.read_bytes())["processes"].items():
        if name.startswith("worker"):
            with suppress(ProcessLookupError):
                os.kill(int(process["pid"]), signal.SIGCONT)
