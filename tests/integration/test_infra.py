"""The test infrastructure itself: a real broker and a real, migrated database."""

from __future__ import annotations

import psycopg
import pytest
from confluent_kafka.admin import AdminClient

pytestmark = pytest.mark.integration


def test_broker_answers_metadata(broker: str) -> None:
    metadata = AdminClient({"bootstrap.servers": broker}).list_topics(timeout=10)
    assert metadata.brokers


def test_database_is_migrated(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables")}
    assert {"calls", "call_participants", "call_events", "download_sync"} <= tables
