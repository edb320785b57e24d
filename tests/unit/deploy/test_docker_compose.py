"""docker-compose.yml and the Dockerfile: the production-like stack users start with one command.

No Docker engine is needed: the file is parsed and its wiring checked; `docker compose config`
also validates it where Docker Compose v2 is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from typing import Any

import pytest
import yaml

from switchboard.cli.main import main
from switchboard.settings import Settings
from tests.support.paths import REPO

ROOT = REPO
COMPOSE = ROOT / "docker-compose.yml"
SWITCHBOARD_ROLES = {"migrate": "migrate", "worker": "worker", "api": "api", "delivery": "deliver"}
CONTRACT_VARIABLES = {"KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "SCHEMA_REGISTRY_URL"}
# Their wiring is checked in test_monitoring_files.py.
MONITORING = ("prometheus", "grafana")


@cache
def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return parsed


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def is_one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def test_the_stack_has_every_part() -> None:
    assert set(services()) == {
        "kafka",
        "schema-registry",
        "postgres",
        *SWITCHBOARD_ROLES,
        *MONITORING,
    }
    assert services()["kafka"]["image"].startswith("apache/kafka:")
    assert services()["schema-registry"]["image"].startswith("confluentinc/cp-schema-registry:")
    assert services()["postgres"]["image"].startswith("postgres:16")
    assert services()["prometheus"]["image"].startswith("prom/prometheus:")
    assert services()["grafana"]["image"].startswith("grafana/grafana:")


def test_third_party_images_are_pinned() -> None:
    for name in ("kafka", "schema-registry", "postgres", *MONITORING):
        image = services()[name]["image"]
        assert ":" in image and not image.endswith(":latest"), name


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in services().items():
        if is_one_shot(service):
            # A one-shot container is waited on by its exit status, not by its health.
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), name


def test_dependencies_wait_for_health_or_for_completion() -> None:
    for name, service in services().items():
        for dependency, how in service.get("depends_on", {}).items():
            target = services()[dependency]
            expected = (
                "service_completed_successfully" if is_one_shot(target) else "service_healthy"
            )
            assert how == {"condition": expected}, (name, dependency)


def test_switchboard_runs_migrations_before_the_worker_and_the_api() -> None:
    for name in ("worker", "api"):
        depends_on = services()[name]["depends_on"]
        assert depends_on["migrate"] == {"condition": "service_completed_successfully"}
        assert {"kafka", "schema-registry", "postgres"} <= set(depends_on)
    assert set(services()["migrate"]["depends_on"]) == {"postgres"}


def test_each_switchboard_role_runs_its_command_with_the_contract_variables() -> None:
    for name, command in SWITCHBOARD_ROLES.items():
        service = services()[name]
        assert service["command"] == ["switchboard", command]
        assert command in main.commands
        assert set(service["environment"]) >= CONTRACT_VARIABLES, name
        assert service["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert "@postgres:5432/" in service["environment"]["DATABASE_URL"]
        assert service["environment"]["SCHEMA_REGISTRY_URL"] == "http://schema-registry:8081"


def test_switchboard_settings_in_the_environment_exist() -> None:
    fields = set(Settings.model_fields)
    for name in SWITCHBOARD_ROLES:
        for variable in services()[name]["environment"]:
            if variable.startswith("SWITCHBOARD_"):
                assert variable.removeprefix("SWITCHBOARD_").lower() in fields, variable


def test_the_api_binds_all_interfaces_in_its_container_and_publishes_its_port() -> None:
    api = services()["api"]
    port = api["environment"]["SWITCHBOARD_API_PORT"]

    assert api["environment"]["SWITCHBOARD_API_HOST"] == "0.0.0.0"
    assert [p.rsplit(":", 1)[1] for p in api["ports"]] == [port]
    assert f"127.0.0.1:{port}/health" in " ".join(api["healthcheck"]["test"])


def test_kafka_runs_kraft_and_advertises_itself_to_the_network() -> None:
    env = services()["kafka"]["environment"]

    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["CLUSTER_ID"]
    advertised = dict(
        listener.split("://") for listener in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    )
    assert advertised[env["KAFKA_INTER_BROKER_LISTENER_NAME"]] == "kafka:9092"
    protocols = dict(p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    listeners = {entry.split("://")[0] for entry in env["KAFKA_LISTENERS"].split(",")}
    assert listeners == set(protocols)
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] in listeners


def test_state_lives_in_named_volumes() -> None:
    declared = set(compose()["volumes"])
    # Bind mounts (./deploy/...) are configuration, read-only; only named volumes hold state.
    used = {
        volume.split(":")[0]
        for service in services().values()
        for volume in service.get("volumes", [])
        if not volume.startswith("./")
    }
    assert used == declared == {"kafka-data", "postgres-data", "prometheus-data", "grafana-data"}


def test_the_image_runs_the_api_as_an_unprivileged_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text().splitlines()
    instructions = [line for line in dockerfile if line and not line.startswith(("#", " "))]

    # The last stage is the image; an earlier one builds the dashboard's static files.
    stages = [line for line in instructions if line.startswith("FROM ")]
    assert stages[-1] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert instructions[-1] == 'CMD ["switchboard", "api"]'
    assert not any("[dev]" in line for line in dockerfile)


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="Docker Compose v2 is not installed",
)
def test_docker_compose_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
        env={
            **os.environ,
            "POSTGRES_PASSWORD": "test",
            "SWITCHBOARD_SECRET_KEY": "test",
            "GRAFANA_ADMIN_PASSWORD": "test",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
