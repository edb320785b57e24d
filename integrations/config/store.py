"""Each tenant's integration configs in `enterprises.integrations_config` (JSONB keyed by type).

A config is stored whole (every key, defaults filled in) with its secrets encrypted, so the SQL
that enqueues deliveries reads `enabled` and `events` without knowing the defaults, and the
table never holds a plaintext secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
import orjson
import structlog
from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from integrations.config.models import CONFIG_MODELS, SECRET_FIELDS, AnyIntegrationConfig
from integrations.config.secrets import MASK, SecretBox, SecretUnreadable, mask

log = structlog.get_logger(__name__)


class UnknownIntegrationType(KeyError):
    def __init__(self, type_: str) -> None:
        super().__init__(type_)
        self.type = type_

    def __str__(self) -> str:
        return f"unknown integration type {self.type!r}: one of {', '.join(CONFIG_MODELS)}"


class ConfigUnreadable(ValueError):
    """A stored config that no longer decodes: its secret needs another key, or it fails
    validation. Loud rather than skipped: a skipped config would silently drop deliveries."""

    def __init__(self, enterprise_id: str, type_: str, reason: str) -> None:
        super().__init__(f"integration {type_} of enterprise {enterprise_id}: {reason}")
        self.enterprise_id = enterprise_id
        self.type = type_


def model_of(type_: str) -> type[AnyIntegrationConfig]:
    try:
        return CONFIG_MODELS[type_]
    except KeyError:
        raise UnknownIntegrationType(type_) from None


def parse_config(
    type: str, body: Mapping[str, Any], *, previous: AnyIntegrationConfig | None = None
) -> AnyIntegrationConfig:
    """A PUT body as a config of `type`. A secret the body omits, or sends back as the masked
    form it was shown, keeps `previous`'s value. Raises `UnknownIntegrationType` (a KeyError)
    or pydantic's ValidationError (`describe_errors` turns it into a message)."""
    model = model_of(type)
    data = dict(body)
    kept = previous if isinstance(previous, model) else None
    for field in SECRET_FIELDS[type]:
        sent = data.get(field)
        old = getattr(kept, field) if kept is not None else None
        if field not in data:
            if old is not None:
                data[field] = old
        elif isinstance(sent, str) and sent.startswith(MASK):
            if old is not None and sent == mask(old):
                data[field] = old
            else:
                raise _masked_secret_error(model, field, old is not None)
    return model.model_validate(data)


def _masked_secret_error(model: type[Any], field: str, has_previous: bool) -> ValidationError:
    why = "it does not match the stored one" if has_previous else "none is stored yet"
    error = PydanticCustomError(
        "masked_secret",
        "a masked value ({why}): send the secret itself, or omit it to keep the stored one",
        {"why": why},
    )
    # The input is not echoed: it may be most of a secret.
    details: list[InitErrorDetails] = [{"type": error, "loc": (field,), "input": "****"}]
    return ValidationError.from_exception_data(model.__name__, details)


def describe_errors(error: ValidationError) -> str:
    """A 400 message: each field and what is wrong, never the value sent (it may be a
    secret, and pydantic's own text quotes it)."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def masked(config: AnyIntegrationConfig) -> dict[str, Any]:
    """The config as an answer or a log shows it: JSON-ready, secrets to their last 4."""
    shown = config.model_dump(mode="json")
    for field in SECRET_FIELDS[config.type]:
        shown[field] = mask(shown.get(field))
    return shown


def encode(config: AnyIntegrationConfig, box: SecretBox) -> dict[str, Any]:
    """The stored form: every key, secrets encrypted."""
    stored = config.model_dump(mode="json")
    for field in SECRET_FIELDS[config.type]:
        if isinstance(value := stored.get(field), str):
            stored[field] = box.encrypt(value)
    return stored


def decode(
    enterprise_id: str, type_: str, stored: Mapping[str, Any], box: SecretBox
) -> AnyIntegrationConfig:
    model = model_of(type_)
    data = dict(stored)
    try:
        for field in SECRET_FIELDS[type_]:
            if isinstance(value := data.get(field), str):
                data[field] = box.decrypt(value)
        return model.model_validate(data)
    except SecretUnreadable as error:
        raise ConfigUnreadable(enterprise_id, type_, str(error)) from None
    except ValidationError as error:
        raise ConfigUnreadable(enterprise_id, type_, describe_errors(error)) from None


def decode_all(
    enterprise_id: str, document: Mapping[str, Any], box: SecretBox
) -> dict[str, AnyIntegrationConfig]:
    configs: dict[str, AnyIntegrationConfig] = {}
    for type_, stored in document.items():
        if type_ not in CONFIG_MODELS or not isinstance(stored, Mapping):
            # Written by a newer version, or by hand: not ours to interpret.
            log.warning(
                "unknown integration config ignored", enterprise_id=enterprise_id, type=type_
            )
            continue
        configs[type_] = decode(enterprise_id, type_, stored, box)
    return configs


async def load_configs(
    conn: asyncpg.Connection, enterprise_id: str, box: SecretBox
) -> dict[str, AnyIntegrationConfig]:
    """Every integration of the enterprise, secrets decrypted; none when it has no row."""
    configs, _ = await load_versioned_configs(conn, enterprise_id, box)
    return configs


async def load_versioned_configs(
    conn: asyncpg.Connection, enterprise_id: str, box: SecretBox
) -> tuple[dict[str, AnyIntegrationConfig], int | None]:
    """`load_configs` and the version of the row they were read from (None: no row).

    The version is the row's xmin: PostgreSQL gives the row a new one with every write, whoever
    writes (a save, a delete, an operator's UPDATE), which `updated_at` cannot promise. Versions
    are equal or not, never ordered; the outbox claim reads the same one."""
    row = await conn.fetchrow(
        "SELECT integrations_config::text AS document, xmin::text::bigint AS version"
        " FROM enterprises WHERE enterprise_id = $1",
        enterprise_id,
    )
    if row is None:
        return {}, None
    version: int = row["version"]
    return decode_all(enterprise_id, orjson.loads(row["document"]), box), version


async def save_config(
    conn: asyncpg.Connection, enterprise_id: str, config: AnyIntegrationConfig, box: SecretBox
) -> None:
    """Creates or replaces this type's config, leaving the enterprise's others as they are.
    One statement: two concurrent saves of different types both land."""
    await conn.execute(
        """
        INSERT INTO enterprises AS e (enterprise_id, integrations_config)
        VALUES ($1, jsonb_build_object($2::text, $3::jsonb))
        ON CONFLICT (enterprise_id) DO UPDATE
        SET integrations_config = e.integrations_config || jsonb_build_object($2::text, $3::jsonb),
            updated_at = now()
        """,
        enterprise_id,
        config.type,
        orjson.dumps(encode(config, box)).decode(),
    )


async def delete_config(conn: asyncpg.Connection, enterprise_id: str, type: str) -> bool:
    """Whether there was such a config to delete."""
    deleted = await conn.fetchval(
        """
        UPDATE enterprises
        SET integrations_config = integrations_config - $2::text, updated_at = now()
        WHERE enterprise_id = $1 AND integrations_config ? $2::text
        RETURNING true
        """,
        enterprise_id,
        type,
    )
    return bool(deleted)
