"""History is published marked as a backfill: the worker takes it whatever its age, exempt
from the late grace period (`streams.runtime.late`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from schemas.publishing import ContractPublisher, connect_publisher
from schemas.topics import Topic
from streams.runtime.late import BACKFILL_HEADER, BACKFILL_VALUE
from switchboard.console import report_failure
from switchboard.kafka.publisher import Headers
from switchboard.settings import Settings

BACKFILL_HEADERS: Headers = [(BACKFILL_HEADER, BACKFILL_VALUE)]


@asynccontextmanager
async def backfill_publisher(
    settings: Settings, topics: Iterable[Topic]
) -> AsyncIterator[ContractPublisher]:
    """A publisher of history onto `topics`, created and registered up front; failures are
    reported on stderr. Raises PublishError when the broker or the registry refuses the job."""
    async with connect_publisher(settings, report_failure, headers=BACKFILL_HEADERS) as publisher:
        await publisher.prepare(topics)
        yield publisher
