"""What a newcomer meets first: `--help` per command, JSON log lines from real processes, and
`up` keeping its tokens across restarts."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.auth import list_tokens
from switchboard.cli.main import SETTING_COMMANDS, main
from switchboard.settings import Settings
from tests.support.paths import EXAMPLES
from tests.support.pipeline import Pipeline
from tests.support.stack import produce, wait_until
from tests.support.up import start_up, stop_up

pytestmark = pytest.mark.integration

EXAMPLES = EXAMPLES / "calls.jsonl"


def help_of(*command: str) -> str:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def test_each_command_shows_the_flags_of_the_settings_it_uses() -> None:
    assert set(SETTING_COMMANDS) == set(Settings.model_fields)
    assert "--api-port" not in help_of("migrate")
    assert "--batch-size" not in help_of("produce")
    worker = help_of("worker")
    for flag in ("--batch-size", "--batch-within-sec", "--sla", "--worker-web-port"):
        assert flag in worker
    for flag in ("--dedup-ttl-sec", "--late-grace-sec", "--retention-months"):
        assert flag in help_of("up")
    assert "--api-port" in help_of("verify")


def test_a_flag_wins_over_the_environment(tmp_path: Path) -> None:
    script = (
        "import click, switchboard.cli.main as c\n"
        "@click.command()\n"
        "@c._options_of('worker')\n"
        "def show(**kwargs):\n"
        "    print(c._settings(kwargs).batch_size)\n"
        "show()\n"
    )
    env = {**os.environ, "SWITCHBOARD_BATCH_SIZE": "5", "SWITCHBOARD_HOME": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-c", script, "--batch-size", "7"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert run.stdout.strip() == "7"


def assert_json_lines(text: str, what: str, reports: str = "$^") -> None:
    """Every line is a JSON object, but for a command's own plain reports (`reports`)."""
    for line in text.splitlines():
        if re.match(reports, line):
            continue
        try:
            assert isinstance(json.loads(line), dict)
        except (ValueError, AssertionError):
            raise AssertionError(f"{what}: not a JSON log line: {line!r}") from None


def test_the_worker_and_produce_log_json_lines_only(pipeline: Pipeline, tmp_path: Path) -> None:
    worker = pipeline.start_worker()
    produced = produce(
        ["telephony.calls", str(EXAMPLES)], pipeline.bootstrap, pipeline.registry_url, tmp_path
    )
    assert produced.returncode == 0, produced.stderr
    assert_json_lines(produced.stderr, "produce", reports=r"produced \d+ of \d+ events to ")
    assert "HTTP Request" not in produced.stderr
    wait_until(
        lambda: pipeline.scalar("SELECT count(*) FROM calls") == 2,
        timeout=120,
        what="the example's two calls",
    )
    worker.stop()
    assert worker.log_path is not None
    log = worker.log_path.read_text()
    assert_json_lines(log, "worker")
    assert "Starting..." not in log and "+----" not in log


def test_up_logs_json_and_keeps_its_tokens_across_runs(fresh_broker: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    up, first = start_up(home, fresh_broker)
    out, err = stop_up(up, home)
    assert "switchboard is up:" in out
    assert_json_lines(err, "up")
    assert (home / "tokens.json").stat().st_mode & 0o777 == 0o600

    up, second = start_up(home, fresh_broker)
    try:
        assert second["token"] == first["token"]
        user_info = "schema_registry_basic_auth_user_info"
        assert second[user_info] == first[user_info]
        tokens = asyncio.run(list_tokens(str(second["database_url"])))
        assert [t.name for t in tokens if t.revoked_at is None] == [
            "switchboard up (service)",
            "switchboard up (dev)",
            "switchboard up (dashboard)",
        ]
    finally:
        stop_up(up, home)
