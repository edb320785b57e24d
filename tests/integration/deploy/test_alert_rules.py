"""deploy/prometheus checked by Prometheus' own tool: the rules and the config load, and the
rules' unit tests (alerts_test.yml) show each alert firing when its `for:` has passed, not
before. promtool comes from Debian's `prometheus` package (.ci/run installs it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import REPO

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("promtool") is None,
        reason="promtool is not installed (Debian package `prometheus`)",
    ),
]

PROMETHEUS = REPO / "deploy" / "prometheus"


def promtool(*args: str) -> str:
    result = subprocess.run(
        ["promtool", *args],
        cwd=PROMETHEUS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_rules_are_valid() -> None:
    assert "SUCCESS" in promtool("check", "rules", "alerts.yml")


def test_the_config_is_valid_and_loads_the_rules() -> None:
    output = promtool("check", "config", "prometheus.yml")

    assert "SUCCESS: 1 rule files found" in output


def test_each_alert_fires_once_its_for_has_passed() -> None:
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")


def test_a_wrong_expectation_fails_the_rules_tests(tmp_path: Path) -> None:
    """The unit tests can fail: the STALL alert expected a minute early is reported."""
    workdir = tmp_path
    shutil.copy(PROMETHEUS / "alerts.yml", workdir / "alerts.yml")
    tests = (PROMETHEUS / "alerts_test.yml").read_text()
    # The first `exp_alerts: []` is the STALL alert at 2m: move the firing expectation there.
    early = tests.replace("eval_time: 3m", "eval_time: 2m", 1)
    assert early != tests
    (workdir / "alerts_test.yml").write_text(early)

    result = subprocess.run(
        ["promtool", "test", "rules", "alerts_test.yml"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "SwitchboardConsumerStalled" in result.stdout + result.stderr
