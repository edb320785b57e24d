"""The Schema Registry clients Switchboard constructs, all from one place.

`registry_client` is the network client every process uses, carrying the configured credential
(`SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO`), so a locked registry, the built-in one or any other,
takes its writes. `StoreRegistry` is for a process that holds the built-in registry's database
itself (the API): it registers through the store in-process, with no network credential to
configure, and is exactly as trusted as the process's own database access.
"""

from __future__ import annotations

from typing import Protocol

from confluent_kafka.schema_registry import AsyncSchemaRegistryClient, Schema
from confluent_kafka.schema_registry.error import SchemaRegistryError

from schemas.codec import SchemaRegistry
from schemas.registry.compat import AVRO, parse_avro
from schemas.registry.errors import SchemaNotFound
from schemas.registry.store import RegistryStore
from switchboard.settings import Settings


class ClosableRegistry(SchemaRegistry, Protocol):
    """A registry its owner closes when done with it."""

    async def aclose(self) -> None: ...


def registry_client(settings: Settings) -> AsyncSchemaRegistryClient:
    """A client of the configured registry (else the built-in one) with its credential."""
    # new_client() also understands mock:// URLs: an in-process registry, for tests.
    client: AsyncSchemaRegistryClient = AsyncSchemaRegistryClient.new_client(
        settings.registry_client_config
    )
    return client


class StoreRegistry:
    """The two calls `schemas.codec.TopicCodec` makes, answered by the built-in registry's store.

    Registration takes the same path, compatibility checks and lock as the REST route.
    """

    def __init__(self, store: RegistryStore) -> None:
        self._store = store

    async def register_schema(self, subject_name: str, schema: Schema) -> int:
        if schema.schema_type not in (None, AVRO) or not schema.schema_str:
            raise ValueError(f"only Avro schemas can be registered, not {schema.schema_type}")
        registered = await self._store.register(subject_name, parse_avro(schema.schema_str))
        return registered.schema.id

    async def get_schema(self, schema_id: int) -> Schema:
        try:
            stored = await self._store.schema_by_id(schema_id)
        except SchemaNotFound as exc:  # what the network client raises for it, too
            raise SchemaRegistryError(exc.http_status, exc.error_code, exc.message) from None
        return Schema(stored.text, stored.schema_type)

    async def aclose(self) -> None:
        """Nothing to close: the store borrows its owner's pool."""
