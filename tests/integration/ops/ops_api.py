"""A `switchboard api` whose lag sampler judges a test's worker group on a short window, and
reading its /api/lag and /metrics."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.stack import Process, launch_api

SAMPLE_SEC = 1.0


def start_ops_api(
    database_url: str, bootstrap: str, group: str, home: Path, *, window_sec: float
) -> tuple[Process, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SWITCHBOARD_APP_ID": group,
        "SWITCHBOARD_HOME": str(home),
        "SWITCHBOARD_STALL_WINDOW_SEC": str(window_sec),
        "SWITCHBOARD_LAG_SAMPLE_INTERVAL_SEC": str(SAMPLE_SEC),
    }
    return launch_api(env, home / "api.log")


def get_lag(url: str, token: str) -> dict[str, Any] | None:
    """/api/lag's body; None while the sampler has not read the broker yet (503)."""
    request = urllib.request.Request(f"{url}/api/lag", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body: dict[str, Any] = json.loads(response.read())
            return body
    except urllib.error.HTTPError as error:
        if error.code == 503:
            return None
        raise


def metrics_text(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        return str(response.read().decode())


def series(text: str, name: str, group: str) -> list[float]:
    """Values of `name`'s series labelled with `group`."""
    return [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") and f'group="{group}"' in line
    ]
