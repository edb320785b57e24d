"""Topic administration: creating the topics a job needs, whatever package describes them.

The ground floor knows no schema: a topic is anything with a name and a compaction flag
(`schemas.topics.Topic` is one), so the callers above pass their own topic descriptions in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from confluent_kafka.admin import AdminClient, NewTopic

from switchboard.broker import LIBRDKAFKA_LOG

ADMIN_TIMEOUT_SEC = 10


class TopicSpec(Protocol):
    """What creating a topic needs to know of it."""

    @property
    def name(self) -> str: ...

    @property
    def compacted(self) -> bool: ...


class TopicCreationFailed(RuntimeError):
    """The broker refused to create a topic (other than because it exists)."""


def ensure_topics(bootstrap: str, topics: Iterable[TopicSpec], partitions: int) -> None:
    """Creates the topics that are missing; existing ones are left as they are (blocking)."""
    admin = AdminClient({"bootstrap.servers": bootstrap}, logger=LIBRDKAFKA_LOG)
    existing = set(admin.list_topics(timeout=ADMIN_TIMEOUT_SEC).topics)
    wanted = [
        NewTopic(
            t.name,
            num_partitions=partitions,
            replication_factor=-1,
            config={"cleanup.policy": "compact"} if t.compacted else {},
        )
        for t in topics
        if t.name not in existing
    ]
    if not wanted:
        return
    for name, future in admin.create_topics(wanted, operation_timeout=ADMIN_TIMEOUT_SEC).items():
        try:
            future.result()
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise TopicCreationFailed(f"cannot create topic {name}: {exc}") from exc


def topic_partitions(bootstrap: str, names: Iterable[str]) -> list[tuple[str, int]]:
    """Every partition of the named topics the broker knows; unknown names are left out."""
    admin = AdminClient({"bootstrap.servers": bootstrap}, logger=LIBRDKAFKA_LOG)
    known = admin.list_topics(timeout=ADMIN_TIMEOUT_SEC).topics
    return [(name, p) for name in names if name in known for p in known[name].partitions]
