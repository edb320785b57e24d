"""POST /api/ingest/interactions: interactions from systems without a stream (batch ETL).

The API never writes them to the database itself: it publishes each to ingest.interactions, in
the Confluent wire format like every other input, and the worker stores it as it stores any
event. 202 means the broker has acknowledged every item. An item's event_id is a hash of its
content (streams.contact_centre.interactions), so posting the same items again is harmless:
duplicates.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import fastavro
import orjson
import structlog
from aiohttp import hdrs, web

from api.auth import require_enterprises
from api.contract.replies import BODY_TIMEOUT, FORBIDDEN, error_reply
from api.contract.route import Reply, add_endpoints, endpoint
from api.errors import ApiError
from api.json import json_response
from api.keys import POOL, SETTINGS
from api.routes.ingest_models import MAX_ITEMS, Ingested, IngestedId, InteractionBatch
from api.server import MAX_BODY_BYTES
from schemas.codec import TopicCodec, frame
from schemas.registry.client import ClosableRegistry, StoreRegistry, registry_client
from schemas.registry.store import RegistryStore
from schemas.topics import INGEST_INTERACTIONS, Topic
from schemas.validate import DEFAULT_MAX_FUTURE_SEC, validation_violation
from streams.contact_centre.interaction_post import InvalidInteraction
from streams.contact_centre.interactions import interaction_record
from switchboard.kafka.publisher import (
    BrokerUnreachable,
    NotDelivered,
    Publisher,
    RegistrationFailed,
)
from switchboard.settings import Settings

log = structlog.get_logger(__name__)
_WRITER = fastavro.parse_schema(INGEST_INTERACTIONS.schema)

# librdkafka refuses a message over its message.max.bytes (1,000,000), counting the key and
# the framing too; an item is refused here first, with a 413 that names this limit.
MAX_ITEM_BYTES = 900_000
# A broker that does not answer within these is reported as unavailable (503), not waited for.
CONNECT_TIMEOUT_SEC = 5.0
DELIVERY_TIMEOUT_SEC = 10.0


class BrokerUnavailable(Exception):
    """The broker or the Schema Registry cannot take the items now."""


def unavailable(reason: str) -> ApiError:
    return ApiError(
        503,
        "unavailable",
        f"{reason}; nothing may have been accepted: retry later (a repeat is harmless)",
        headers={hdrs.RETRY_AFTER: "5"},
    )


def invalid_item(index: int, field: str, reason: str) -> ApiError:
    where = f"item {index}" + (f", {field}" if field else "")
    return ApiError(
        400, "invalid_body", f"{where}: {reason}", details={"index": index, "field": field}
    )


class InteractionPublisher:
    """One producer per API process for ingest.interactions, prepared on first use (topic
    created, schema registered) and again after a failed preparation."""

    def __init__(self, settings: Settings, registry: Callable[[], ClosableRegistry]) -> None:
        self._settings = settings
        self._new_registry = registry
        self._lock = asyncio.Lock()
        self._publisher: Publisher[Topic] | None = None
        self._registry: ClosableRegistry | None = None

    async def publish(self, records: Sequence[dict[str, Any]]) -> None:
        """Returns once the broker acknowledged every record; raises BrokerUnavailable."""
        publisher = await self._prepared()
        try:
            await publisher.deliver(INGEST_INTERACTIONS, records, what="items")
        except NotDelivered as exc:
            raise BrokerUnavailable(str(exc)) from exc.__cause__

    async def close(self) -> None:
        if self._publisher is not None:
            await self._publisher.flush(CONNECT_TIMEOUT_SEC)
        if self._registry is not None:
            await self._registry.aclose()

    async def _prepared(self) -> Publisher[Topic]:
        async with self._lock:
            if self._publisher is None:
                self._publisher = await self._prepare()
            return self._publisher

    async def _prepare(self) -> Publisher[Topic]:
        bootstrap = self._settings.kafka_bootstrap_servers
        if not bootstrap:
            raise BrokerUnavailable("no broker is configured (KAFKA_BOOTSTRAP_SERVERS)")
        publisher = Publisher[Topic](
            bootstrap,
            partitions=self._settings.topic_partitions,
            encoder_for=lambda topic: TopicCodec(topic, self._registry_client()),
            delivery_timeout_sec=DELIVERY_TIMEOUT_SEC,
            config={
                "socket.connection.setup.timeout.ms": int(CONNECT_TIMEOUT_SEC * 1000),
                "log_level": 0,  # failures are reported once, by us, as 503s
            },
        )
        try:
            await publisher.prepare([INGEST_INTERACTIONS])
        except BrokerUnreachable as exc:
            reason = f"the broker at {bootstrap} cannot be reached"
            raise BrokerUnavailable(reason) from exc.__cause__
        except RegistrationFailed as exc:
            raise BrokerUnavailable("the schema registry cannot be reached") from exc.__cause__
        return publisher

    def _registry_client(self) -> ClosableRegistry:
        if self._registry is None:
            self._registry = self._new_registry()
        return self._registry


PUBLISHER = web.AppKey("ingest_publisher", InteractionPublisher)


async def parse_items(request: web.Request) -> list[object]:
    """The posted items: one JSON object, or an array of 1 to MAX_ITEMS of them."""
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_body", f"the body is not JSON: {exc}") from None
    items = body if isinstance(body, list) else [body]
    if not items:
        raise ApiError(400, "invalid_body", "the array holds no interaction")
    if len(items) > MAX_ITEMS:
        raise ApiError(
            400, "invalid_body", f"at most {MAX_ITEMS} interactions per request, got {len(items)}"
        )
    return items


def build_records(
    items: Sequence[object],
    received_at: datetime,
    *,
    max_future_sec: float = DEFAULT_MAX_FUTURE_SEC,
) -> list[dict[str, Any]]:
    """The ingest.interactions records; a 400 names the first bad item's index and field."""
    records = []
    first_index: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        try:
            record = interaction_record(item, received_at=received_at)
        except InvalidInteraction as exc:
            raise invalid_item(index, exc.field, exc.reason) from None
        # The worker would refuse it to error.events; the poster should hear it instead.
        violation = validation_violation(
            INGEST_INTERACTIONS, record, now=received_at, max_future_sec=max_future_sec
        )
        if violation:
            raise invalid_item(index, violation.field, violation.reason)
        key = (record["enterprise_id"], record["external_id"])
        if key in first_index:
            # Two versions in one request: which one is newer would be a guess.
            reason = f"external_id {key[1]!r} is also item {first_index[key]}"
            raise invalid_item(index, "external_id", reason)
        first_index[key] = index
        records.append(record)
    return records


def check_publishable(records: Sequence[Mapping[str, Any]]) -> None:
    """400 for text no database column can hold (NUL), 413 for a message the broker would
    refuse: answered before anything reaches the producer."""
    for index, record in enumerate(records):
        field = _field_with_nul(record)
        if field is not None:
            raise invalid_item(index, field, "must not contain NUL (U+0000)")
        try:
            size = message_size(record)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise invalid_item(index, "", f"cannot be encoded: {exc}") from None
        if size > MAX_ITEM_BYTES:
            raise ApiError(
                413,
                "payload_too_large",
                f"item {index} is {size:,} bytes encoded; an interaction may take at most"
                f" {MAX_ITEM_BYTES:,}",
                details={"index": index, "limit": MAX_ITEM_BYTES},
            )


def message_size(record: Mapping[str, Any]) -> int:
    """The bytes of its message on ingest.interactions: key, wire-format header and record."""
    payload = io.BytesIO()
    fastavro.schemaless_writer(payload, _WRITER, dict(record), strict_allow_default=True)
    return len(str(record["external_id"]).encode()) + len(frame(0, payload.getvalue()))


def _field_with_nul(record: Mapping[str, Any]) -> str | None:
    for name, value in record.items():
        texts = [*value.keys(), *value.values()] if isinstance(value, dict) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            return str(name)
    return None


@endpoint(
    "POST",
    "/api/ingest/interactions",
    operation_id="ingestInteractions",
    tag="ingest",
    summary=f"Post one interaction or up to {MAX_ITEMS}; idempotent by external_id",
    description="Published to ingest.interactions and stored by the worker, so they appear in"
    " queries shortly after the 202. Posting the same content again changes nothing; posting an"
    " external_id with other content replaces it.",
    body=InteractionBatch,
    responses={
        202: Reply("The broker has every item.", Ingested),
        400: error_reply("An item is invalid (`invalid_body`; `index`, `field` say where)."),
        403: FORBIDDEN,
        408: BODY_TIMEOUT,
        413: error_reply(
            f"The body is over {MAX_BODY_BYTES:,} bytes, or an item's record over"
            f" {MAX_ITEM_BYTES:,} bytes (`payload_too_large`)."
        ),
        503: error_reply("The broker or the schema registry is unavailable; retry later."),
    },
)
async def ingest_interactions(request: web.Request) -> web.Response:
    """Publishes one interaction or many to ingest.interactions; 202 once the broker has them."""
    max_future_sec = request.config_dict[SETTINGS].max_future_sec
    records = build_records(
        await parse_items(request), datetime.now(UTC), max_future_sec=max_future_sec
    )
    require_enterprises(request, {r["enterprise_id"] for r in records})
    check_publishable(records)
    try:
        await request.config_dict[PUBLISHER].publish(records)
    except BrokerUnavailable as exc:
        log.warning("ingest_unavailable", reason=str(exc), cause=repr(exc.__cause__))
        raise unavailable(str(exc)) from None
    ids = [
        {field.alias or name: r[name] for name, field in IngestedId.model_fields.items()}
        for r in records
    ]
    return json_response({"ids": ids}, status=202)


async def _publisher(app: web.Application) -> AsyncIterator[None]:
    app[PUBLISHER] = InteractionPublisher(app[SETTINGS], partial(_registry, app))
    yield
    await app[PUBLISHER].close()


def _registry(app: web.Application) -> ClosableRegistry:
    settings = app[SETTINGS]
    if settings.schema_registry_url:
        return registry_client(settings)
    # The built-in registry lives in this process's own database: registering through its store
    # needs no credential to configure (writes over HTTP need an admin token) and no request to
    # ourselves, and it is exactly as trusted as the database access the API already has.
    return StoreRegistry(RegistryStore(app[POOL]))


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_publisher)
    add_endpoints(app, ingest_interactions)
