"""A `switchboard api` process of a test's own, and reading its /health."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.stack import Process, launch_api


def start_api(database_url: str, bootstrap: str, app_id: str, home: Path) -> tuple[Process, str]:
    """The API over `database_url`, judging the worker group `app_id`; its built-in registry
    is that database's. Returns the process and its base URL."""
    env = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "SWITCHBOARD_APP_ID": app_id,
        "SWITCHBOARD_HOME": str(home),
    }
    home.mkdir(parents=True, exist_ok=True)
    return launch_api(env, home / "api.log")


def health(url: str) -> tuple[int, dict[str, Any]]:
    """/health's status and body; 503 is an answer, not a failure."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def worker_state(url: str) -> tuple[int, str]:
    status, body = health(url)
    return status, str(body["worker"]["status"])
