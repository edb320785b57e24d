"""`switchboard up` as a newcomer runs it: on its own home and embedded database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from switchboard.runtime.embedded import free_port
from tests.support.stack import wait_until


def start_up(
    home: Path, bootstrap: str, **extra_env: str
) -> tuple[subprocess.Popen[bytes], dict[str, object]]:
    """`switchboard up` on `home`'s embedded database, its output in home/up.out and up.err."""
    env = {
        **os.environ,
        "SWITCHBOARD_HOME": str(home),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SWITCHBOARD_API_PORT": str(free_port()),
        "SWITCHBOARD_WORKER_WEB_PORT": "0",
        "SWITCHBOARD_DELIVERY_WEB_PORT": "0",
        **extra_env,
    }
    for own in ("DATABASE_URL", "SCHEMA_REGISTRY_URL", "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"):
        env.pop(own, None)  # `up`'s embedded database and its own registry credential
    with (home / "up.out").open("wb") as out, (home / "up.err").open("wb") as err:
        up = subprocess.Popen(
            [sys.executable, "-m", "switchboard", "up"], env=env, stdout=out, stderr=err
        )
    runtime = home / "runtime.json"
    try:
        wait_until(runtime.exists, timeout=180, what="up to publish runtime.json")
    except AssertionError:
        up.kill()
        up.wait()
        raise AssertionError((home / "up.err").read_text()[-5000:]) from None
    return up, json.loads(runtime.read_text())


def stop_up(up: subprocess.Popen[bytes], home: Path) -> tuple[str, str]:
    up.send_signal(signal.SIGINT)
    up.wait(timeout=120)
    out, err = (home / "up.out").read_text(), (home / "up.err").read_text()
    assert up.returncode == 0, err[-3000:]
    return out, err


def second_terminal(home: Path) -> dict[str, str]:
    """The environment of a `switchboard` command run in a second terminal: it finds the
    running `up` (broker, database, registry credential) by itself, through `home`."""
    env = {**os.environ, "SWITCHBOARD_HOME": str(home)}
    for own in (
        "DATABASE_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "SCHEMA_REGISTRY_URL",
        "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO",
        "SWITCHBOARD_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO",
    ):
        env.pop(own, None)
    return env
