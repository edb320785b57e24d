"""The Faust App itself, with the broker settings a Tansu or Kafka cluster needs."""

from __future__ import annotations

import faust

from streams.runtime import faust_fixes
from switchboard import broker
from switchboard.logging import faust_logging_config
from switchboard.settings import RUNTIME_DIR, Settings

# The producer waits this long to fill a batch: at 0 it sent almost every canonical event in a
# produce request of its own, a sixth of the worker's time (BENCHMARKS.md, bench/masterdeal).
# A canonical event is that much later, and so is the flush before each offset commit.
PRODUCER_LINGER_SEC = 0.005


def bootstrap_servers(settings: Settings) -> str:
    # A default lets `faust -A streams.app` build the App with nothing configured.
    return settings.kafka_bootstrap_servers or "127.0.0.1:9092"


def faust_broker_url(bootstrap: str) -> str:
    return ";".join(f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip())


def new_faust_app(settings: Settings) -> faust.App:
    """A fresh App with no agents yet; patches Faust (streams.runtime.faust_fixes) first."""
    faust_fixes.apply()
    datadir = RUNTIME_DIR / "faust"
    datadir.mkdir(parents=True, exist_ok=True)  # Faust creates the leaf only
    return faust.App(
        settings.app_id,
        broker=faust_broker_url(bootstrap_servers(settings)),
        store="memory://",
        autodiscover=False,
        topic_partitions=settings.topic_partitions,
        broker_session_timeout=broker.SESSION_TIMEOUT_SEC,
        broker_heartbeat_interval=broker.HEARTBEAT_INTERVAL_SEC,
        broker_commit_interval=1.0,
        producer_linger=PRODUCER_LINGER_SEC,
        consumer_auto_offset_reset="earliest",
        table_standby_replicas=0,
        web_enabled=False,
        datadir=str(datadir),
        # `faust -A streams.app worker` sets logging up itself: with our config, not its own.
        logging_config=faust_logging_config(settings.log_level),
    )
