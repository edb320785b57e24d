"""The built-in Confluent-compatible Schema Registry under /schema-registry (contract 3).

The REST subset confluent-kafka's `SchemaRegistryClient`, `AsyncSchemaRegistryClient`,
`AvroSerializer` and `AvroDeserializer` call, with Confluent's paths, query parameters,
response fields and error codes, so they work against it unchanged. The routes live in a
sub-application whose middleware renders every failure, including unknown paths, as
Confluent's `{"error_code": ..., "message": ...}`; the rest of the API is untouched by it.

Reads are open. Every write (register, delete, change compatibility or mode) needs an admin
token, by bearer or by basic auth with the token as the password, else 401 (none or invalid)
or 403 (not admin). Looking a schema up and testing compatibility are reads, though POSTed,
as Confluent's own authorizer counts them. With `SCHEMA_REGISTRY_URL` configured the
registry is somewhere else, and none is served here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, TypeVar
from uuid import UUID

import orjson
import structlog
from aiohttp import hdrs, web

from api.auth import require_admin
from api.contract.route import Foreign, add_foreign
from api.errors import DATABASE_UNAVAILABLE, ApiError
from api.keys import POOL, SETTINGS
from schemas.registry.compat import AVRO, AvroSchema, parse_avro, parse_level
from schemas.registry.errors import (
    BadRequest,
    InvalidSchema,
    InvalidSubject,
    InvalidVersion,
    RegistryError,
    SchemaNotFound,
    UnsupportedMediaType,
)
from schemas.registry.store import (
    LATEST,
    Deleted,
    RegistryStore,
    StoredSchema,
    SubjectVersion,
    VersionRef,
)

log = structlog.get_logger(__name__)

PREFIX: Final = "/schema-registry"
CONTENT_TYPE: Final = "application/vnd.schemaregistry.v1+json"
_BODY_TYPES: Final = frozenset(
    {
        CONTENT_TYPE,
        "application/vnd.schemaregistry+json",
        "application/json",
        # What aiohttp reports when a client sends no Content-Type at all.
        "application/octet-stream",
    }
)
_MAX_ID: Final = 2**31 - 1
_DIGITS = re.compile(r"[0-9]+")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_READ_METHODS: Final = frozenset({hdrs.METH_GET, hdrs.METH_HEAD, hdrs.METH_OPTIONS})
_CHALLENGE: Final = 'Basic realm="switchboard", Bearer realm="switchboard"'

routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")


def setup(app: web.Application) -> None:
    """Adds the Schema Registry REST subset under /schema-registry, unless another registry
    is configured: two registries would hand out conflicting schema ids."""
    if app[SETTINGS].schema_registry_url:
        return
    registry = web.Application(middlewares=[_confluent_errors])
    registry.add_routes(routes)
    app.add_subapp(PREFIX, registry)
    add_foreign(app, Foreign(PREFIX, TAG, describe))


TAG: Final = {
    "name": "schema-registry",
    "description": (
        f"The built-in Schema Registry under {PREFIX}: the subset of the Confluent Schema"
        " Registry REST API that standard clients use. Reads are open; writes need an admin"
        " token (`token create --admin`), by bearer or basic auth."
    ),
    "externalDocs": {
        "url": "https://docs.confluent.io/platform/current/schema-registry/develop/api.html"
    },
}
_PATH_PARAMETER = re.compile(r"\{(\w+)\}")


def describe(route: web.AbstractRoute, method: str) -> dict[str, Any]:
    """The OpenAPI operation of a registry route: Confluent's reference describes it, so the
    entry is derived from the route and its handler's docstring."""
    template = route.resource.canonical if route.resource else PREFIX
    doc = inspect.getdoc(route.handler)
    admin = needs_admin(method.upper(), route.handler)
    return {
        "tags": [TAG["name"]],
        "summary": doc.splitlines()[0] if doc else f"{method.upper()} {template}",
        "security": [{"bearerAuth": []}, {"basicAuth": []}] if admin else [],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PATH_PARAMETER.findall(template)
        ],
        "responses": {
            "default": {
                "description": "As the Confluent Schema Registry answers; errors found before"
                " the registry sees the request (a NUL in a parameter, a body too slow or too"
                " large) in this API's JSON error shape.",
                "content": {
                    "application/vnd.schemaregistry.v1+json": {"schema": {}},
                    "application/json": {"schema": {}},
                },
            }
        },
    }


@web.middleware
async def _confluent_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if _is_write(request):
            await require_admin(request)
        return await handler(request)
    except ApiError as exc:  # no, an invalid or a non-admin token
        headers = {"WWW-Authenticate": _CHALLENGE} if exc.status == 401 else None
        return _error(exc.status, exc.status * 100 + 1, exc.message, headers=headers)
    except RegistryError as exc:
        return _error(exc.http_status, exc.error_code, exc.message)
    except web.HTTPException as exc:  # no such route, wrong method, body too large
        if exc.status < 400:
            raise
        return _error(exc.status, exc.status, exc.reason)
    except DATABASE_UNAVAILABLE as exc:  # confluent-kafka retries a 503
        log.warning("schema registry store unavailable", path=request.path, error=str(exc))
        return _error(503, 50001, "The schema store is unavailable; retry later.")
    except Exception:
        log.exception("schema registry request failed", method=request.method, path=request.path)
        return _error(500, 50001, "Internal error in the schema registry.")


def needs_admin(method: str, handler: Handler) -> bool:
    """Whether calling `handler` by `method` is a write, which only an admin token may make."""
    return method not in _READ_METHODS and handler not in _READS_BY_POST


def _is_write(request: web.Request) -> bool:
    # A method no route has (PUT /mode) counts as a write too: it is refused as one, before
    # a 405 would tell an anonymous caller anything.
    return needs_admin(request.method, request.match_info.handler)


# Server


@routes.get("")
@routes.get("/")
async def root(request: web.Request) -> web.Response:
    """Server root: an empty object, as Confluent answers."""
    return _json({})


@routes.get("/schemas/types")
async def schema_types(request: web.Request) -> web.Response:
    """Schema types this registry accepts: AVRO only."""
    return _json([AVRO])


@routes.get("/mode")
async def global_mode(request: web.Request) -> web.Response:
    """Registry mode: always READWRITE."""
    return _json({"mode": "READWRITE"})


@routes.get("/mode/{subject}")
async def subject_mode(request: web.Request) -> web.Response:
    """Subject mode: always READWRITE."""
    _subject(request)
    return _json({"mode": "READWRITE"})


# Schemas by id


@routes.get("/schemas/ids/{id}")
async def schema_by_id(request: web.Request) -> web.Response:
    """The schema with this global id."""
    # `subject` and `format` are accepted and need nothing: ids are global, and an Avro
    # schema has one format.
    return _json(_schema_body(await _store(request).schema_by_id(_schema_id(request))))


@routes.get("/schemas/ids/{id}/schema")
async def raw_schema_by_id(request: web.Request) -> web.Response:
    """The schema with this global id, as the bare schema document."""
    return _raw(await _store(request).schema_by_id(_schema_id(request)))


@routes.get("/schemas/guids/{guid}")
async def schema_by_guid(request: web.Request) -> web.Response:
    """The schema with this GUID."""
    try:
        guid = UUID(request.match_info["guid"])
    except ValueError:
        raise SchemaNotFound(f"Schema {request.match_info['guid']} not found.") from None
    return _json(_schema_body(await _store(request).schema_by_guid(guid)))


@routes.get("/schemas/ids/{id}/versions")
async def schema_versions(request: web.Request) -> web.Response:
    """Every subject version registering this schema id."""
    found = await _store(request).versions_of_schema(
        _schema_id(request), _optional_subject(request), _deleted(request)
    )
    body = [{"subject": v.subject, "version": v.version} for v in found]
    return _json(_page(request, body))


@routes.get("/schemas/ids/{id}/subjects")
async def schema_subjects(request: web.Request) -> web.Response:
    """Every subject registering this schema id."""
    found = await _store(request).versions_of_schema(
        _schema_id(request), _optional_subject(request), _deleted(request)
    )
    return _json(_page(request, list(dict.fromkeys(v.subject for v in found))))


# Subjects


@routes.get("/subjects")
async def subjects(request: web.Request) -> web.Response:
    """Subjects with a live version (deleted=true adds soft-deleted ones)."""
    prefix = request.query.get("subjectPrefix")
    if prefix is not None:
        prefix = _valid_subject(prefix)
    return _json(_page(request, await _store(request).subjects(prefix, _deleted(request))))


@routes.post("/subjects/{subject}/versions")
async def register(request: web.Request) -> web.Response:
    """Registers a schema under the subject; returns its id (idempotent)."""
    # `normalize` needs nothing: identity is always decided on the canonical form.
    subject = _subject(request)
    registered = await _store(request).register(subject, await _schema_of(request))
    return _json(
        {
            "id": registered.schema.id,
            "guid": str(registered.schema.guid),
            "subject": registered.subject,
            "version": registered.version,
        }
    )


@routes.post("/subjects/{subject}")
async def lookup(request: web.Request) -> web.Response:
    """The subject version whose schema equals the one posted."""
    subject = _subject(request)
    deleted = Deleted.INCLUDE if _flag(request, "deleted") else Deleted.EXCLUDE
    found = await _store(request).lookup(subject, await _schema_of(request), deleted)
    return _json(_version_body(found))


@routes.get("/subjects/{subject}/versions")
async def versions(request: web.Request) -> web.Response:
    """The subject's version numbers."""
    found = await _store(request).versions(_subject(request), _deleted(request))
    return _json(_page(request, [v.version for v in found]))


@routes.get("/subjects/{subject}/versions/{version}")
async def version(request: web.Request) -> web.Response:
    """One version of the subject (a number, or latest)."""
    return _json(_version_body(await _get_version(request)))


@routes.get("/subjects/{subject}/versions/{version}/schema")
async def raw_version_schema(request: web.Request) -> web.Response:
    """One version's schema, as the bare schema document."""
    return _raw((await _get_version(request)).schema)


@routes.get("/subjects/{subject}/versions/{version}/referencedby")
async def referenced_by(request: web.Request) -> web.Response:
    """Ids of schemas referencing this version: always none, no references here."""
    await _get_version(request)
    return _json([])  # schema references are not supported, so nothing refers to a version


@routes.delete("/subjects/{subject}")
async def delete_subject(request: web.Request) -> web.Response:
    """Soft-deletes the subject (permanent=true: hard-deletes a soft-deleted one)."""
    deleted = await _store(request).delete_subject(
        _subject(request), permanent=_flag(request, "permanent")
    )
    return _json(deleted)


@routes.delete("/subjects/{subject}/versions/{version}")
async def delete_version(request: web.Request) -> web.Response:
    """Soft-deletes a version (permanent=true: hard-deletes a soft-deleted one)."""
    deleted = await _store(request).delete_version(
        _subject(request), _version_ref(request), permanent=_flag(request, "permanent")
    )
    return _json(deleted)


# Compatibility


@routes.post("/compatibility/subjects/{subject}/versions/{version}")
async def compatible_with_version(request: web.Request) -> web.Response:
    """Whether the posted schema may follow this version."""
    return await _compatibility(request, _version_ref(request))


@routes.post("/compatibility/subjects/{subject}/versions")
async def compatible_with_subject(request: web.Request) -> web.Response:
    """Whether the posted schema may be registered under the subject."""
    return await _compatibility(request, None)


async def _compatibility(request: web.Request, against: VersionRef | None) -> web.Response:
    subject = _subject(request)
    problems = await _store(request).check(subject, await _schema_of(request), against)
    body: dict[str, Any] = {"is_compatible": not problems}
    if _flag(request, "verbose"):
        body["messages"] = problems
    return _json(body)


# Config


@routes.get("/config")
async def global_config(request: web.Request) -> web.Response:
    """The global compatibility level."""
    return _json({"compatibilityLevel": await _store(request).global_level()})


@routes.put("/config")
async def set_global_config(request: web.Request) -> web.Response:
    """Sets the global compatibility level."""
    level = parse_level(_level_of(await _json_body(request)))
    await _store(request).set_level(None, level)
    return _json({"compatibility": level})


@routes.delete("/config")
async def delete_global_config(request: web.Request) -> web.Response:
    """Resets the global compatibility level to BACKWARD; returns the old one."""
    return _json({"compatibilityLevel": await _store(request).delete_level(None)})


@routes.get("/config/{subject}")
async def subject_config(request: web.Request) -> web.Response:
    """The subject's own compatibility level."""
    # Like Confluent: a subject without its own level is 40408 unless defaultToGlobal=true.
    level = await _store(request).subject_level(
        _subject(request), default_to_global=_flag(request, "defaultToGlobal")
    )
    return _json({"compatibilityLevel": level})


@routes.put("/config/{subject}")
async def set_subject_config(request: web.Request) -> web.Response:
    """Sets the subject's own compatibility level."""
    subject = _subject(request)
    level = parse_level(_level_of(await _json_body(request)))
    await _store(request).set_level(subject, level)
    return _json({"compatibility": level})


@routes.delete("/config/{subject}")
async def delete_subject_config(request: web.Request) -> web.Response:
    """Removes the subject's own compatibility level; returns it."""
    return _json({"compatibilityLevel": await _store(request).delete_level(_subject(request))})


# Request parsing


def _store(request: web.Request) -> RegistryStore:
    return RegistryStore(request.config_dict[POOL])


def _subject(request: web.Request) -> str:
    return _valid_subject(request.match_info["subject"])


def _optional_subject(request: web.Request) -> str | None:
    subject = request.query.get("subject")
    return None if subject is None else _valid_subject(subject)


def _valid_subject(subject: str) -> str:
    if not subject.strip() or _CONTROL_CHARACTERS.search(subject):
        raise InvalidSubject(f"Invalid subject {subject!r}: empty or has control characters.")
    return subject


def _schema_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not _DIGITS.fullmatch(text) or int(text) > _MAX_ID:
        raise SchemaNotFound(f"Schema {text} not found.")
    return int(text)


def _version_ref(request: web.Request) -> VersionRef:
    text = request.match_info["version"]
    if text.lower() == LATEST or text == "-1":
        return LATEST
    if not _DIGITS.fullmatch(text) or not 1 <= int(text) <= _MAX_ID:
        raise InvalidVersion(text)
    return int(text)


async def _get_version(request: web.Request) -> SubjectVersion:
    deleted = Deleted.INCLUDE if _flag(request, "deleted") else Deleted.EXCLUDE
    return await _store(request).version(_subject(request), _version_ref(request), deleted)


def _flag(request: web.Request, name: str) -> bool:
    # confluent-kafka sends both "true" (httpx params) and "True" (formatted into the URL).
    return request.query.get(name, "").lower() == "true"


def _deleted(request: web.Request) -> Deleted:
    if _flag(request, "deleted_only"):
        return Deleted.ONLY
    return Deleted.INCLUDE if _flag(request, "deleted") else Deleted.EXCLUDE


def _page(request: web.Request, items: Sequence[T]) -> list[T]:
    """Confluent's `offset`/`limit` pagination; a negative limit means no limit."""
    offset = max(_int_query(request, "offset", 0), 0)
    limit = _int_query(request, "limit", -1)
    page = items[offset:]
    return list(page if limit < 0 else page[:limit])


def _int_query(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"Query parameter {name} must be an integer, not {text!r}.") from None


async def _json_body(request: web.Request) -> dict[str, Any]:
    if request.content_type not in _BODY_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type {request.content_type} is not supported; send {CONTENT_TYPE}."
        )
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


async def _schema_of(request: web.Request) -> AvroSchema:
    """The schema a register, lookup or compatibility request carries, parsed and validated."""
    body = await _json_body(request)
    schema_type = body.get("schemaType") or AVRO
    if not isinstance(schema_type, str) or schema_type.upper() != AVRO:
        raise InvalidSchema(
            f"Schema type {schema_type!r} is not supported: this registry stores AVRO only."
        )
    if body.get("references"):
        raise InvalidSchema("Schema references are not supported by this registry.")
    for unsupported in ("metadata", "ruleSet"):
        if body.get(unsupported):
            raise InvalidSchema(f"Schema {unsupported} is not supported by this registry.")
    text = body.get("schema")
    if not isinstance(text, str) or not text.strip():
        raise InvalidSchema("Invalid schema: the request has no schema string.")
    return parse_avro(text)


def _level_of(body: dict[str, Any]) -> object:
    # confluent-kafka's ServerConfig sends either key, depending on which field was set.
    return body.get("compatibility", body.get("compatibilityLevel"))


# Responses


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type=CONTENT_TYPE)


def _raw(schema: StoredSchema) -> web.Response:
    """The schema document itself as the body, as Confluent's `.../schema` routes answer."""
    return web.Response(text=schema.text, content_type=CONTENT_TYPE)


def _error(
    status: int, error_code: int, message: str, *, headers: dict[str, str] | None = None
) -> web.Response:
    response = _json({"error_code": error_code, "message": message}, status=status)
    response.headers.update(headers or {})
    return response


def _schema_body(schema: StoredSchema) -> dict[str, Any]:
    # Confluent leaves `schemaType` out for Avro, its default; clients read absence as AVRO.
    body: dict[str, Any] = {"schema": schema.text}
    if schema.schema_type != AVRO:
        body["schemaType"] = schema.schema_type
    return body


def _version_body(found: SubjectVersion) -> dict[str, Any]:
    return {
        "subject": found.subject,
        "version": found.version,
        "id": found.schema.id,
        "guid": str(found.schema.guid),
        **_schema_body(found.schema),
    }


# POSTs that change nothing: open like every other read.
_READS_BY_POST: Final[frozenset[Handler]] = frozenset(
    {lookup, compatible_with_version, compatible_with_subject}
)
