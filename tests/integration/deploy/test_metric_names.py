"""Every metric the alert rules and the dashboard's panels read is one a Switchboard process
serves: the API, a worker and the delivery process are started for real and their /metrics
pages read, as Prometheus would scrape them (deploy/prometheus/prometheus.yml)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator

import pytest
import yaml

from integrations.config.secrets import generate_key
from switchboard.runtime.embedded import free_port
from switchboard.runtime.processes import http_answers
from tests.support.paths import REPO
from tests.support.promql import SYNTHETIC, exposed_names, metric_names
from tests.support.stack import Process, wait_until

pytestmark = pytest.mark.integration

STARTUP_SEC = 120


def read_metrics(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        text: str = response.read().decode()
    return text


def serving(process: Process, url: str, what: str) -> str:
    """The /metrics page at `url` once it answers; a process that never serves fails the test
    with its log."""

    def answers() -> bool:
        assert not process.exited(), process.log_tail()
        return http_answers(url)

    try:
        wait_until(answers, timeout=STARTUP_SEC, interval=0.5, what=what)
    except AssertionError:
        raise AssertionError(f"{what}:\n{process.log_tail()}") from None
    return read_metrics(url)


@pytest.fixture(scope="module")
def delivery_metrics(
    make_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    home = tmp_path_factory.mktemp("deliver")
    env = {
        "DATABASE_URL": make_database(),
        "SWITCHBOARD_SECRET_KEY": generate_key(),
        "SWITCHBOARD_HOME": str(home),
        "SWITCHBOARD_DELIVERY_WEB_PORT": str(port),
    }
    process = Process("deliver", env, home / "deliver.log").start()
    try:
        yield serving(process, f"http://127.0.0.1:{port}/metrics", "the delivery's /metrics")
    finally:
        process.stop()


@pytest.fixture
def worker_metrics(
    broker: str, make_database: Callable[[], str], start_worker: Callable[..., Process]
) -> str:
    port = free_port()
    worker = start_worker(broker, make_database(), worker_web_port=str(port))
    return serving(worker, f"http://127.0.0.1:{port}/metrics", "the worker's /metrics")


def alert_expressions() -> dict[str, str]:
    groups = yaml.safe_load((REPO / "deploy" / "prometheus" / "alerts.yml").read_text())
    return {
        f"alert {rule['alert']}": rule["expr"]
        for group in groups["groups"]
        for rule in group["rules"]
    }


def panel_expressions() -> dict[str, str]:
    dashboard = json.loads((REPO / "deploy" / "grafana" / "switchboard.json").read_text())
    return {
        f"panel {panel['title']!r} {target['refId']}": target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    }


def test_every_alert_and_panel_reads_a_served_metric(
    api_url: str, worker_metrics: str, delivery_metrics: str
) -> None:
    pages = {
        "api": read_metrics(f"{api_url}/metrics"),
        "worker": worker_metrics,
        "delivery": delivery_metrics,
    }
    served = set().union(*(exposed_names(page) for page in pages.values())) | SYNTHETIC
    expressions = {**alert_expressions(), **panel_expressions()}

    read = {where: metric_names(expr) for where, expr in expressions.items()}
    missing = {where: sorted(names - served) for where, names in read.items() if names - served}

    assert all(read.values()), [where for where, names in read.items() if not names]
    assert not missing, missing


def test_the_consumer_metrics_come_from_the_api(api_url: str) -> None:
    """The stall and lag alerts must not depend on the worker they watch: the API serves them."""
    served = exposed_names(read_metrics(f"{api_url}/metrics"))

    for name in (
        "switchboard_consumer_lag",
        "switchboard_consumer_lag_seconds",
        "switchboard_consumer_status",
        "switchboard_consumer_group_status",
        "switchboard_worker_up",
        "switchboard_outbox_oldest_pending_seconds",
        "switchboard_lag_sample_age_seconds",
    ):
        assert name in served, name
