"""The registry's state in PostgreSQL: schemas by global id, subject versions, compatibility.

Tables (migration 0002): `schema_registry_schemas` holds each distinct schema once, keyed by
the fingerprint of its canonical form, so an id names the same schema in every subject and
forever (rows are never deleted, so old messages stay decodable). `schema_registry_versions`
numbers the schemas of each subject from 1; a soft delete only flags a version. Every write
runs in one transaction holding a registry-wide advisory lock: registrations are rare, and
serialising them is what keeps two concurrent registrations of one schema from creating two
versions, across every process sharing the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, Literal
from uuid import UUID

import asyncpg
import structlog

from schemas.registry.compat import (
    AVRO,
    DEFAULT_LEVEL,
    AvroSchema,
    CompatibilityLevel,
    incompatibilities,
    parse_avro,
)
from schemas.registry.errors import (
    IncompatibleSchema,
    SchemaNotFound,
    SubjectConfigNotFound,
    SubjectNotFound,
    SubjectNotSoftDeleted,
    SubjectSoftDeleted,
    VersionNotFound,
    VersionNotSoftDeleted,
    VersionSoftDeleted,
)

log = structlog.get_logger(__name__)

LATEST: Final = "latest"
VersionRef = int | Literal["latest"]

# The config row of the global level; subject names are never empty.
_GLOBAL: Final = ""

_VERSION_COLUMNS = "v.subject, v.version, v.deleted, s.id, s.guid, s.schema_type, s.schema_text"
_VERSIONS_FROM = "schema_registry_versions v JOIN schema_registry_schemas s ON s.id = v.schema_id"


class Deleted(Enum):
    """Which soft-deleted versions a read sees (Confluent's `deleted` / `deleted_only`)."""

    EXCLUDE = "exclude"
    INCLUDE = "include"
    ONLY = "only"


@dataclass(frozen=True)
class StoredSchema:
    id: int
    guid: UUID
    schema_type: str
    text: str


@dataclass(frozen=True)
class SubjectVersion:
    subject: str
    version: int
    schema: StoredSchema
    deleted: bool = False


class RegistryStore:
    """Registry operations over an asyncpg pool; failures raise `schemas.registry.errors`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    # Schemas and versions

    async def register(self, subject: str, schema: AvroSchema) -> SubjectVersion:
        """Registers `schema` under `subject`, or returns its live version if it is one already.

        Raises `IncompatibleSchema` when the subject's compatibility level forbids it.
        """
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_writes(conn)
            existing = await _find_in_subject(conn, subject, schema, Deleted.EXCLUDE)
            if existing is not None:
                return existing
            live = await _subject_versions(conn, subject, Deleted.EXCLUDE)
            level = await _effective_level(conn, subject)
            problems = incompatibilities(level, schema, [parse_avro(v.schema.text) for v in live])
            if problems:
                raise IncompatibleSchema(
                    "Schema being registered is incompatible with an earlier schema for subject"
                    f' "{subject}" (compatibility {level}): ' + "; ".join(problems)
                )
            stored = await _schema_by_fingerprint(conn, schema)
            if stored is None:
                stored = await _insert_schema(conn, schema)
            version: int = await conn.fetchval(
                "SELECT coalesce(max(version), 0) + 1 FROM schema_registry_versions"
                " WHERE subject = $1",
                subject,
            )
            await conn.execute(
                "INSERT INTO schema_registry_versions (subject, version, schema_id)"
                " VALUES ($1, $2, $3)",
                subject,
                version,
                stored.id,
            )
        log.info("schema registered", subject=subject, version=version, schema_id=stored.id)
        return SubjectVersion(subject, version, stored)

    async def lookup(self, subject: str, schema: AvroSchema, deleted: Deleted) -> SubjectVersion:
        """The version of `subject` whose schema is `schema` (the newest, if several)."""
        async with self._pool.acquire() as conn:
            if not await _subject_versions(conn, subject, deleted):
                raise SubjectNotFound(subject)
            found = await _find_in_subject(conn, subject, schema, deleted)
        if found is None:
            raise SchemaNotFound(f"Schema not found in subject '{subject}'.")
        return found

    async def schema_by_id(self, schema_id: int) -> StoredSchema:
        row = await self._pool.fetchrow(
            "SELECT id, guid, schema_type, schema_text FROM schema_registry_schemas WHERE id = $1",
            schema_id,
        )
        if row is None:
            raise SchemaNotFound(f"Schema {schema_id} not found.")
        return _stored_schema(row)

    async def schema_by_guid(self, guid: UUID) -> StoredSchema:
        row = await self._pool.fetchrow(
            "SELECT id, guid, schema_type, schema_text FROM schema_registry_schemas"
            " WHERE guid = $1",
            guid,
        )
        if row is None:
            raise SchemaNotFound(f"Schema {guid} not found.")
        return _stored_schema(row)

    async def versions_of_schema(
        self, schema_id: int, subject: str | None, deleted: Deleted
    ) -> list[SubjectVersion]:
        """Every (subject, version) registering `schema_id`, optionally within one subject."""
        await self.schema_by_id(schema_id)
        rows = await self._pool.fetch(
            f"SELECT {_VERSION_COLUMNS} FROM {_VERSIONS_FROM}"
            " WHERE v.schema_id = $1 AND ($2::text IS NULL OR v.subject = $2)"
            f" AND {_deleted_filter('v.deleted', '$3')} ORDER BY v.subject, v.version",
            schema_id,
            subject,
            deleted.value,
        )
        return [_subject_version(row) for row in rows]

    async def subjects(self, prefix: str | None, deleted: Deleted) -> list[str]:
        # A subject is deleted when every version of it is; it is live while one is not.
        rows = await self._pool.fetch(
            "SELECT subject FROM schema_registry_versions"
            " WHERE $1::text IS NULL OR starts_with(subject, $1)"
            " GROUP BY subject"
            " HAVING CASE $2::text WHEN 'exclude' THEN bool_or(NOT deleted)"
            " WHEN 'only' THEN bool_and(deleted) ELSE true END"
            " ORDER BY subject",
            prefix,
            deleted.value,
        )
        return [row["subject"] for row in rows]

    async def versions(self, subject: str, deleted: Deleted) -> list[SubjectVersion]:
        """The subject's versions, oldest first; `SubjectNotFound` if it has none to show."""
        async with self._pool.acquire() as conn:
            found = await _subject_versions(conn, subject, deleted)
            if not found and (
                deleted is not Deleted.ONLY
                or not await _subject_versions(conn, subject, Deleted.INCLUDE)
            ):
                raise SubjectNotFound(subject)
        return found

    async def version(self, subject: str, ref: VersionRef, deleted: Deleted) -> SubjectVersion:
        async with self._pool.acquire() as conn:
            return _pick(subject, await _subject_versions(conn, subject, deleted), ref)

    async def delete_subject(self, subject: str, *, permanent: bool) -> list[int]:
        """Soft-deletes the live versions (or hard-deletes soft-deleted ones); returns them."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_writes(conn)
            every = await _subject_versions(conn, subject, Deleted.INCLUDE)
            if not every:
                raise SubjectNotFound(subject)
            live = [v.version for v in every if not v.deleted]
            if permanent:
                if live:
                    raise SubjectNotSoftDeleted(subject)
                await conn.execute(
                    "DELETE FROM schema_registry_versions WHERE subject = $1", subject
                )
                return [v.version for v in every]
            if not live:
                raise SubjectSoftDeleted(subject)
            await conn.execute(
                "UPDATE schema_registry_versions SET deleted = true"
                " WHERE subject = $1 AND NOT deleted",
                subject,
            )
            # As Confluent does: a re-created subject starts from the global level.
            await _delete_level(conn, subject)
            return live

    async def delete_version(self, subject: str, ref: VersionRef, *, permanent: bool) -> int:
        """Soft-deletes a live version, or hard-deletes a soft-deleted one; returns its number."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_writes(conn)
            every = await _subject_versions(conn, subject, Deleted.INCLUDE)
            # "latest" is the newest version the delete can apply to.
            if ref == LATEST and not permanent:
                every = [v for v in every if not v.deleted]
            target = _pick(subject, every, ref)
            if permanent:
                if not target.deleted:
                    raise VersionNotSoftDeleted(subject, target.version)
                await conn.execute(
                    "DELETE FROM schema_registry_versions WHERE subject = $1 AND version = $2",
                    subject,
                    target.version,
                )
            else:
                if target.deleted:
                    raise VersionSoftDeleted(subject, target.version)
                await conn.execute(
                    "UPDATE schema_registry_versions SET deleted = true"
                    " WHERE subject = $1 AND version = $2",
                    subject,
                    target.version,
                )
            return target.version

    async def check(
        self, subject: str, schema: AvroSchema, against: VersionRef | None
    ) -> list[str]:
        """Why `schema` may not be registered after `against` (None: every version the
        subject's level compares with); empty when it may."""
        async with self._pool.acquire() as conn:
            level = await _effective_level(conn, subject)
            live = await _subject_versions(conn, subject, Deleted.EXCLUDE)
        # Against "latest" of a subject with no versions, anything is compatible.
        if against == LATEST:
            previous = live[-1:]
        elif against is None:
            previous = live
        else:
            previous = [_pick(subject, live, against)]
        return incompatibilities(level, schema, [parse_avro(v.schema.text) for v in previous])

    # Compatibility configuration

    async def global_level(self) -> CompatibilityLevel:
        async with self._pool.acquire() as conn:
            return await _level(conn, _GLOBAL) or DEFAULT_LEVEL

    async def subject_level(self, subject: str, *, default_to_global: bool) -> CompatibilityLevel:
        async with self._pool.acquire() as conn:
            level = await _level(conn, subject)
            if level is None and default_to_global:
                level = await _level(conn, _GLOBAL) or DEFAULT_LEVEL
        if level is None:
            raise SubjectConfigNotFound(subject)
        return level

    async def set_level(self, subject: str | None, level: CompatibilityLevel) -> None:
        """Sets the level of `subject`, or the global level when `subject` is None."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_writes(conn)
            await conn.execute(
                "INSERT INTO schema_registry_config (subject, compatibility) VALUES ($1, $2)"
                " ON CONFLICT (subject) DO UPDATE SET compatibility = EXCLUDED.compatibility,"
                " updated_at = now()",
                _GLOBAL if subject is None else subject,
                level.value,
            )

    async def delete_level(self, subject: str | None) -> CompatibilityLevel:
        """Removes a subject's own level (or resets the global one); returns what it was."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_writes(conn)
            if subject is None:
                return await _delete_level(conn, _GLOBAL) or DEFAULT_LEVEL
            old = await _delete_level(conn, subject)
        if old is None:
            raise SubjectConfigNotFound(subject)
        return old


async def _lock_writes(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('switchboard.schema_registry'))")


async def _find_in_subject(
    conn: asyncpg.Connection, subject: str, schema: AvroSchema, deleted: Deleted
) -> SubjectVersion | None:
    row = await conn.fetchrow(
        f"SELECT {_VERSION_COLUMNS} FROM {_VERSIONS_FROM}"
        " WHERE v.subject = $1 AND s.schema_type = $2 AND s.fingerprint = $3"
        f" AND {_deleted_filter('v.deleted', '$4')} ORDER BY v.version DESC LIMIT 1",
        subject,
        AVRO,
        schema.fingerprint,
        deleted.value,
    )
    return None if row is None else _subject_version(row)


async def _subject_versions(
    conn: asyncpg.Connection, subject: str, deleted: Deleted
) -> list[SubjectVersion]:
    rows = await conn.fetch(
        f"SELECT {_VERSION_COLUMNS} FROM {_VERSIONS_FROM}"
        f" WHERE v.subject = $1 AND {_deleted_filter('v.deleted', '$2')} ORDER BY v.version",
        subject,
        deleted.value,
    )
    return [_subject_version(row) for row in rows]


def _pick(subject: str, versions: Sequence[SubjectVersion], ref: VersionRef) -> SubjectVersion:
    """The version `ref` names among `versions` (oldest first)."""
    if not versions:
        raise SubjectNotFound(subject)
    if ref == LATEST:
        return versions[-1]
    for candidate in versions:
        if candidate.version == ref:
            return candidate
    raise VersionNotFound(subject, ref)


async def _schema_by_fingerprint(
    conn: asyncpg.Connection, schema: AvroSchema
) -> StoredSchema | None:
    row = await conn.fetchrow(
        "SELECT id, guid, schema_type, schema_text FROM schema_registry_schemas"
        " WHERE schema_type = $1 AND fingerprint = $2",
        AVRO,
        schema.fingerprint,
    )
    return None if row is None else _stored_schema(row)


async def _insert_schema(conn: asyncpg.Connection, schema: AvroSchema) -> StoredSchema:
    row = await conn.fetchrow(
        "INSERT INTO schema_registry_schemas (schema_type, fingerprint, schema_text, canonical)"
        " VALUES ($1, $2, $3, $4) RETURNING id, guid, schema_type, schema_text",
        AVRO,
        schema.fingerprint,
        schema.text,
        schema.canonical,
    )
    return _stored_schema(row)


async def _effective_level(conn: asyncpg.Connection, subject: str) -> CompatibilityLevel:
    return await _level(conn, subject) or await _level(conn, _GLOBAL) or DEFAULT_LEVEL


async def _level(conn: asyncpg.Connection, subject: str) -> CompatibilityLevel | None:
    value = await conn.fetchval(
        "SELECT compatibility FROM schema_registry_config WHERE subject = $1", subject
    )
    return None if value is None else CompatibilityLevel(value)


async def _delete_level(conn: asyncpg.Connection, subject: str) -> CompatibilityLevel | None:
    value = await conn.fetchval(
        "DELETE FROM schema_registry_config WHERE subject = $1 RETURNING compatibility", subject
    )
    return None if value is None else CompatibilityLevel(value)


def _deleted_filter(column: str, parameter: str) -> str:
    """SQL that is true for the rows a `Deleted` value (bound as `parameter`) lets through."""
    return (
        f"CASE {parameter}::text WHEN 'exclude' THEN NOT {column}"
        f" WHEN 'only' THEN {column} ELSE true END"
    )


def _stored_schema(row: Any) -> StoredSchema:
    return StoredSchema(
        id=row["id"], guid=row["guid"], schema_type=row["schema_type"], text=row["schema_text"]
    )


def _subject_version(row: Any) -> SubjectVersion:
    return SubjectVersion(
        subject=row["subject"],
        version=row["version"],
        schema=_stored_schema(row),
        deleted=row["deleted"],
    )
