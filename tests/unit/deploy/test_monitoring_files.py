"""deploy/prometheus and deploy/grafana, as docker-compose.yml wires them: every alert says how
bad it is and what to do, Prometheus scrapes each Switchboard process where it listens, and
Grafana finds its datasource and the dashboard without a manual step."""

from __future__ import annotations

import json
from functools import cache
from pathlib import PurePosixPath
from typing import Any

import yaml

from tests.support.paths import REPO
from tests.support.promql import metric_names
from tests.unit.deploy.test_docker_compose import services

PROMETHEUS = REPO / "deploy" / "prometheus"
GRAFANA = REPO / "deploy" / "grafana"
# Compose service -> (Prometheus job, the variable of its metrics port).
SCRAPED = {
    "api": ("switchboard-api", "SWITCHBOARD_API_PORT"),
    "worker": ("switchboard-worker", "SWITCHBOARD_WORKER_WEB_PORT"),
    "delivery": ("switchboard-delivery", "SWITCHBOARD_DELIVERY_WEB_PORT"),
}
STATUSES = ["OK", "WARN", "STALL", "STOP", "REWIND"]


def load_yaml(path: str) -> Any:
    return yaml.safe_load((REPO / path).read_text())


@cache
def rules() -> list[dict[str, Any]]:
    groups = load_yaml("deploy/prometheus/alerts.yml")["groups"]
    return [rule for group in groups for rule in group["rules"]]


@cache
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GRAFANA / "switchboard.json").read_text())
    return loaded


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def mounts(service: str) -> dict[str, str]:
    """Container path -> host path of the service's bind mounts."""
    found = {}
    for volume in services()[service]["volumes"]:
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            found[target] = source.removeprefix("./")
    return found


def test_every_alert_says_how_bad_it_is_and_what_to_do() -> None:
    names = [rule["alert"] for rule in rules()]

    assert len(names) == len(set(names))
    for rule in rules():
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]


def test_the_issue_s_alerts_are_all_there() -> None:
    read = set().union(*(metric_names(rule["expr"]) for rule in rules()))

    assert {
        "switchboard_consumer_status",
        "switchboard_consumer_lag_seconds",
        "switchboard_worker_up",
        "up",
        "switchboard_integration_deliveries_total",
        "switchboard_integration_circuit_open",
        "switchboard_masterdeal_sla_breaches_total",
    } <= read


def test_prometheus_scrapes_each_process_where_it_listens() -> None:
    config = load_yaml("deploy/prometheus/prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    assert set(jobs) == {job for job, _ in SCRAPED.values()}
    for service, (job, port_variable) in SCRAPED.items():
        port = services()[service]["environment"][port_variable]
        if "static_configs" in jobs[job]:
            [static] = jobs[job]["static_configs"]
            assert static["targets"] == [f"{service}:{port}"], job
        else:
            # Every replica of a scalable service, by its name's A records.
            [dns] = jobs[job]["dns_sd_configs"]
            assert (dns["names"], dns["type"], dns["port"]) == ([service], "A", int(port)), job
        assert service in services()["prometheus"]["depends_on"]


def test_the_worker_and_the_delivery_process_listen_beyond_their_container() -> None:
    for service in ("worker", "delivery"):
        assert services()[service]["environment"]["SWITCHBOARD_METRICS_HOST"] == "0.0.0.0"


def test_prometheus_loads_the_shipped_config_and_rules() -> None:
    prometheus = services()["prometheus"]
    config_flag = next(a for a in prometheus["command"] if a.startswith("--config.file="))
    config_path = PurePosixPath(config_flag.split("=", 1)[1])
    config = load_yaml("deploy/prometheus/prometheus.yml")

    assert mounts("prometheus")[str(config_path.parent)] == "deploy/prometheus"
    assert config_path.name == "prometheus.yml"
    # Relative rule files are read next to the config.
    assert config["rule_files"] == ["alerts.yml"]


def test_grafana_is_provisioned_with_the_datasource_and_the_dashboard() -> None:
    grafana = mounts("grafana")
    [datasource] = load_yaml("deploy/grafana/provisioning/datasources/prometheus.yml")[
        "datasources"
    ]
    [provider] = load_yaml("deploy/grafana/provisioning/dashboards/switchboard.yml")["providers"]

    assert grafana["/etc/grafana/provisioning"] == "deploy/grafana/provisioning"
    dashboards = {path for path, source in grafana.items() if source.endswith(".json")}
    assert dashboards == {f"{provider['options']['path']}/switchboard.json"}
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    assert "prometheus" in services()["grafana"]["depends_on"]
    for panel in panels():
        for source in (panel["datasource"], *(t["datasource"] for t in panel["targets"])):
            assert source == {"type": "prometheus", "uid": datasource["uid"]}, panel["title"]


def test_the_dashboard_has_the_issue_s_rows() -> None:
    rows = [p["title"] for p in dashboard()["panels"] if p["type"] == "row"]

    assert dashboard()["uid"] == "switchboard"
    assert rows == ["Consumer lag", "Worker", "Master deals", "CRM deliveries", "API"]


def test_every_panel_queries_and_labels_its_axis() -> None:
    ids = [p["id"] for p in dashboard()["panels"]]

    assert len(ids) == len(set(ids))
    for panel in panels():
        assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"])
        if panel["type"] == "timeseries":
            assert panel["fieldConfig"]["defaults"]["custom"]["axisLabel"], panel["title"]


def test_panels_fit_the_grid_without_overlapping() -> None:
    taken: set[tuple[int, int]] = set()
    for panel in dashboard()["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & taken, panel["title"]
        taken |= cells


def test_status_panels_name_the_contract_s_statuses() -> None:
    status_panels = [p for p in panels() if any("_status" in t["expr"] for t in p["targets"])]

    assert len(status_panels) == 2
    for panel in status_panels:
        [mapping] = panel["fieldConfig"]["defaults"]["mappings"]
        texts = [mapping["options"][str(value)]["text"] for value in range(len(STATUSES))]
        assert texts == STATUSES, panel["title"]
