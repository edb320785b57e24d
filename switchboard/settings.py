"""Configuration, 12-factor: flags > environment > the running `switchboard up` > defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

RUNTIME_DIR = Path(os.environ.get("SWITCHBOARD_HOME", Path.cwd() / ".switchboard"))
RUNTIME_FILE = RUNTIME_DIR / "runtime.json"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "SWITCHBOARD_KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "SWITCHBOARD_DATABASE_URL")
    )
    schema_registry_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SCHEMA_REGISTRY_URL", "SWITCHBOARD_SCHEMA_REGISTRY_URL"),
    )
    # "user:password" for the registry's basic auth, Confluent's own setting. The built-in
    # registry takes an admin API token as the password (any user name) for its writes.
    schema_registry_basic_auth_user_info: str | None = Field(
        default=None,
        repr=False,
        validation_alias=AliasChoices(
            "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO",
            "SWITCHBOARD_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO",
        ),
    )
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    worker_web_port: int = 6066

    app_id: str = "switchboard"
    topic_partitions: int = 6
    # The worker's heartbeat (streams/heartbeat.py): /health calls it down after 3 missed beats,
    # and stalled when a partition's committed offset stood still for a whole window while
    # behind (contract 10).
    heartbeat_interval_sec: float = 5.0
    stall_window_sec: float = 30.0
    # A batch is flushed when it holds this many events or when `batch_within_sec` has passed.
    batch_size: int = 2000
    batch_within_sec: float = 0.25
    # How long a dedup key is remembered: duplicates arriving later than this are caught only
    # by the database's natural keys, which make them harmless but not free.
    dedup_ttl_sec: int = 7 * 24 * 3600
    # MasterDeal SLA targets, e.g. "briefed=2d,offer_ready=5d,deal=30d"; unset: the defaults.
    sla: str | None = None
    sla_check_interval_sec: float = 5.0
    # Seed 7.4.2: a daily reconciliation of each domain's status with the master stage.
    reconcile_interval_sec: float = 24 * 3600
    # Contact-centre analytics. An event older than `late_grace_sec` (against the wall clock) no
    # longer changes its interval: it goes to error.events as "late", so closed intervals that
    # were reported stay as reported. Raise it to backfill or replay older history.
    late_grace_sec: float = 30 * 24 * 3600
    # Contract 4: an event dated further ahead of the wall clock than this fails validation.
    # At most a day: sinks.partitions never creates a partition more than a week ahead.
    max_future_sec: float = Field(default=300.0, ge=0, le=24 * 3600)
    # Months of raw events and facts kept; older monthly partitions are dropped daily.
    retention_months: int = 13
    retention_interval_sec: float = 24 * 3600
    # Which source system is the master of each dimension kind: its versions win a conflict.
    dimension_masters: str = "agent=hr,department=hr,queue=routing,channel=routing,topic=crm"
    # The tenant of a deal whose domain events name none (contract 4).
    default_enterprise: str = "default"
    log_level: str = "INFO"

    def require_kafka(self) -> str:
        if not self.kafka_bootstrap_servers:
            raise RuntimeError(
                "no broker configured: set KAFKA_BOOTSTRAP_SERVERS or start `switchboard up`"
            )
        return self.kafka_bootstrap_servers

    def require_database(self) -> str:
        if not self.database_url:
            raise RuntimeError("no database configured: set DATABASE_URL or start `switchboard up`")
        return self.database_url

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def registry_url(self) -> str:
        """The Schema Registry every client uses: the configured one, else the built-in one."""
        return self.schema_registry_url or f"{self.api_url}/schema-registry"

    @property
    def registry_client_config(self) -> dict[str, str]:
        """confluent-kafka's Schema Registry client configuration: URL and credential."""
        config = {"url": self.registry_url}
        if self.schema_registry_basic_auth_user_info:
            config["basic.auth.user.info"] = self.schema_registry_basic_auth_user_info
        return config


def read_runtime() -> dict[str, Any]:
    """What a running `switchboard up` published about itself, or nothing."""
    try:
        data = orjson.loads(RUNTIME_FILE.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(data, dict) or _has_exited(data.get("pid")):
        return {}  # left by an `up` that crashed: its addresses lead nowhere
    return data


def _has_exited(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False  # no PID to tell by
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, under another user
    return False


def load_settings(**overrides: Any) -> Settings:
    """Settings for a command: flags win, then the environment, then `up`'s runtime file."""
    flags = {k: v for k, v in overrides.items() if v is not None}
    settings = Settings(**flags)
    runtime = read_runtime()
    for field in ("kafka_bootstrap_servers", "database_url", "schema_registry_url"):
        if getattr(settings, field) is None and runtime.get(field):
            setattr(settings, field, runtime[field])
    # `up`'s service credential is for its own registry: never sent to one configured here.
    if (
        settings.schema_registry_basic_auth_user_info is None
        and settings.schema_registry_url == runtime.get("schema_registry_url")
        and runtime.get("schema_registry_basic_auth_user_info")
    ):
        settings.schema_registry_basic_auth_user_info = runtime[
            "schema_registry_basic_auth_user_info"
        ]
    if (
        "api_port" not in flags
        and "SWITCHBOARD_API_PORT" not in os.environ
        and runtime.get("api_port")
    ):
        settings.api_port = int(runtime["api_port"])
    return settings
