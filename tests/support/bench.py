"""Runs a benchmark command end to end, as its smoke tests do."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import orjson

from tests.support.paths import REPO


def run_bench(module: str, *options: str) -> dict[str, Any]:
    """`python -m bench.<module> <options> --json` on the tests' PostgreSQL; the JSON it prints.
    Fails the test, with the tail of its log, when the command does."""
    env = dict(os.environ)
    if "SWITCHBOARD_TEST_ADMIN_URL" in os.environ:
        env["SWITCHBOARD_BENCH_ADMIN_URL"] = os.environ["SWITCHBOARD_TEST_ADMIN_URL"]
    completed = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *options, "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")[-3000:]
    result: dict[str, Any] = orjson.loads(completed.stdout)
    return result
