"""The OpenAPI 3.1 document of the API: every route is described here, and only here.

tests/unit/test_api_openapi.py fails when a route is registered without being described (or
described without being registered), so a new route module must add its paths to `PATHS`.
The Schema Registry routes are the exception: they implement Confluent's published REST API,
so their entries are derived from the router and point to Confluent's reference.
"""

from __future__ import annotations

import inspect
import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import hdrs, web

from api.analytics.schema import (
    KPIS_PARAMETERS,
    KPIS_SCHEMA,
    OPERATORS_SCHEMA,
    QUEUES_SCHEMA,
    RANGE_PARAMETERS,
    TIMESERIES_PARAMETERS,
    TIMESERIES_SCHEMA,
)
from api.paging import LIMIT_SCHEMA
from api.routes.calls import CALL_STATUSES, CALL_TYPES, DATA_SOURCES
from api.routes.dictionaries import DICTIONARY_PARAMETERS, DICTIONARY_SCHEMA
from api.routes.ingest import INGEST_REQUEST_SCHEMA, INGEST_RESPONSE_SCHEMA, MAX_ITEM_BYTES
from api.routes.masterdeal import (
    MASTER_DEAL_LIST_PARAMETERS,
    MASTER_DEAL_LIST_SCHEMA,
    MASTER_DEAL_SCHEMA,
)
from api.routes.schema_registry import needs_admin
from api.server import BODY_TIMEOUT_SEC, MAX_BODY_BYTES

Schema = dict[str, Any]

OPENAPI_VERSION = "3.1.0"
SCHEMA_REGISTRY_PREFIX = "/schema-registry"
_PATH_PARAMETER = re.compile(r"\{(\w+)\}")


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(type_: str, **extra: Any) -> Schema:
    return {"type": [type_, "null"], **extra}


def _time(description: str | None = None, *, nullable: bool = True) -> Schema:
    schema: Schema = {"type": ["string", "null"] if nullable else "string", "format": "date-time"}
    return {**schema, "description": description} if description else schema


def _object(properties: dict[str, Schema], *, required: list[str] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
    }


_JSON = {"description": "JSON as stored (JSONB)."}
_TEXT = {"type": "string"}
_INT = {"type": "integer"}
_BOOL = {"type": "boolean"}

CALL: Schema = _object(
    {
        "call_id": {**_TEXT, "description": "The Asterisk UniqueId, as in /api/calls/{call_id}."},
        "id": {**_INT, "description": "Surrogate key (calls.id)."},
        "unique_id": {**_TEXT, "description": "The Asterisk UniqueId, e.g. 1749034247.6528."},
        "mongo_id": _nullable("string", description="_id in the MongoDB it was migrated from."),
        "timestamp": _time("When the row was created here."),
        "start_time": _time("When the call started."),
        "end_time": _time("When the call ended."),
        "duration": _nullable("integer", description="Seconds."),
        "enterprise_id": _TEXT,
        "phone_number": _nullable("string", description="The external party."),
        "trunk": _nullable("string"),
        "main_extension": _nullable("string", description="The extension that answered."),
        "extensions_count": _nullable("integer"),
        "call_type": {"type": "string", "enum": list(CALL_TYPES)},
        "call_status": _nullable("string", enum=[*CALL_STATUSES, None]),
        "data_source": {"type": "string", "enum": list(DATA_SOURCES)},
        "received_timestamp": _time("When the call's event was received."),
        "asterisk_host": _nullable("string"),
        "raw_data": _JSON,
        "extra_data": _JSON,
        "created_at": _time(),
        "updated_at": _time(),
    }
)
PARTICIPANT: Schema = _object(
    {
        "id": _INT,
        "call_id": {**_INT, "description": "calls.id of the call (not the Asterisk UniqueId)."},
        "extension": _TEXT,
        "participant_status": {
            "type": "string",
            "enum": ["answered", "no_answer", "busy", "dialing"],
        },
        "ring_order": _nullable("integer", description="Position in a ring-list, from 1."),
        "ring_duration": _nullable("integer", description="Seconds rung before answer or give-up."),
        "dial_start": _time(),
        "answer_time": _time(),
        "hangup_time": _time(),
        "extension_info": _JSON,
        "disconnect_reason": _nullable("string"),
        "created_at": _time(),
    }
)
EVENT: Schema = _object(
    {
        "id": _INT,
        "call_id": _nullable("integer", description="calls.id of the call."),
        "unique_id": _TEXT,
        "event_key": {**_TEXT, "description": "Deduplication key of the event."},
        "source_system": _TEXT,
        "event_id": _TEXT,
        "enterprise_id": _TEXT,
        "asterisk_host": _nullable("string"),
        "extension": _nullable("string"),
        "event_type": {"type": "string", "enum": ["start", "dial", "bridge", "hangup"]},
        "event_sequence": _nullable("integer"),
        "event_timestamp": _time(nullable=False),
        "received_timestamp": _time(),
        "data_source": {"type": "string", "enum": list(DATA_SOURCES)},
        "processed": _nullable("boolean"),
        "needs_telegram": _nullable("boolean"),
        "needs_integration": _nullable("boolean"),
        "telegram_sent": _nullable("boolean"),
        "integration_sent": _nullable("boolean"),
        "raw_data": _JSON,
        "created_at": _time(),
    }
)
CALL_DETAIL: Schema = {
    "allOf": [
        _ref("Call"),
        _object(
            {
                "participants": {
                    "type": "array",
                    "items": _ref("CallParticipant"),
                    "description": "Ordered by ring_order, extension.",
                },
                "events": {
                    "type": "array",
                    "items": _ref("CallEvent"),
                    "description": "Ordered by event_sequence, event_timestamp.",
                },
            }
        ),
    ]
}
CALL_PAGE: Schema = _object(
    {
        "calls": {"type": "array", "items": _ref("Call")},
        "next_cursor": _nullable(
            "string", description="Pass as `cursor` for the next page; null on the last one."
        ),
    }
)
ERROR: Schema = _object(
    {
        "error": _object(
            {
                "code": {
                    "type": "string",
                    "description": "Short snake_case cause.",
                    "examples": ["invalid_parameter", "unauthorized", "forbidden", "not_found"],
                },
                "message": {"type": "string", "description": "For people, not for parsing."},
                "parameter": {
                    "type": "string",
                    "description": "With `invalid_parameter`: the parameter at fault.",
                },
            },
            required=["code", "message"],
        )
    }
)
DEPENDENCY: Schema = _object(
    {
        "status": {"type": "string", "enum": ["ok", "unavailable", "not_configured"]},
        "latency_ms": {"type": "number"},
        "error": {"type": "string", "description": "The kind of failure, when unavailable."},
        "brokers": {"type": "integer", "description": "Kafka only: brokers in the metadata."},
    },
    required=["status"],
)
WORKER_HEALTH: Schema = _object(
    {
        "status": {
            "type": "string",
            "enum": ["ok", "stalled", "down", "unknown"],
            "description": "From the worker group's heartbeats: down after 3 missed beats (or"
            " none ever), stalled when a partition is STALL or STOP (contract 10); unknown"
            " while the database does not answer.",
        },
        "lastBeatAgeSec": _nullable("number", description="Age of the newest heartbeat."),
        "instances": {"type": "integer", "description": "Worker instances beating now."},
        "stalledPartitions": {
            "type": "array",
            "items": _object(
                {
                    "topic": {"type": "string"},
                    "partition": {"type": "integer"},
                    "status": {"type": "string", "enum": ["STALL", "STOP"]},
                }
            ),
        },
    },
    required=["status"],
)
HEALTH: Schema = _object(
    {
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "dependencies": _object({"database": _ref("Dependency"), "kafka": _ref("Dependency")}),
        "worker": WORKER_HEALTH,
    }
)


def _error(description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


def _json(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error_ref(name: str) -> Schema:
    return {"$ref": f"#/components/responses/{name}"}


# What every bearer-protected operation may answer besides its success.
_PROTECTED_ERRORS = {
    "401": _error_ref("Unauthorized"),
    "500": _error_ref("InternalError"),
    "503": _error_ref("Unavailable"),
}


def _query(name: str, description: str, schema: Schema) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


CALL_LIST_PARAMETERS = [
    {
        "name": "enterprise_id",
        "in": "query",
        "required": False,
        "description": "Repeatable. Default: every enterprise of the token; any other is 403.",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
    },
    _query(
        "from",
        "Calls that started at or after (ISO 8601; no offset means UTC).",
        _time(nullable=False),
    ),
    _query(
        "to", "Calls that started before (ISO 8601; no offset means UTC).", _time(nullable=False)
    ),
    _query(
        "data_source", "How the call was received.", {"type": "string", "enum": list(DATA_SOURCES)}
    ),
    _query("call_type", "Direction of the call.", {"type": "string", "enum": list(CALL_TYPES)}),
    _query("call_status", "Outcome of the call.", {"type": "string", "enum": list(CALL_STATUSES)}),
    _query("phone_number", "The external party, exactly.", _TEXT),
    _query("extension", "An extension that took part (or the one that answered).", _TEXT),
    _query("limit", "Calls per page.", LIMIT_SCHEMA),
    _query("cursor", "`next_cursor` of the previous page.", _TEXT),
]

PATHS: dict[str, dict[str, Schema]] = {
    "/health": {
        "get": {
            "operationId": "health",
            "tags": ["operations"],
            "summary": "Whether the API and its dependencies answer",
            "security": [],
            "responses": {
                "200": _json(
                    "Every dependency answers (Kafka may be not_configured).", _ref("Health")
                ),
                "503": _json(
                    "A dependency is unavailable, or the worker is down or stalled.",
                    _ref("Health"),
                ),
            },
        }
    },
    "/metrics": {
        "get": {
            "operationId": "metrics",
            "tags": ["operations"],
            "summary": "Prometheus metrics",
            "security": [],
            "responses": {
                "200": {
                    "description": "Prometheus text exposition format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "openapi",
            "tags": ["operations"],
            "summary": "This document",
            "responses": {
                "200": _json("OpenAPI 3.1 document.", {"type": "object"}),
                "400": _error_ref("InvalidParameter"),
                **_PROTECTED_ERRORS,
            },
        }
    },
    "/api/calls": {
        "get": {
            "operationId": "listCalls",
            "tags": ["calls"],
            "summary": "Calls, newest first (by start_time), a page at a time",
            "description": (
                "Keyset pagination: follow `next_cursor` until it is null. Calls whose"
                " start_time is not known yet come first."
            ),
            "parameters": CALL_LIST_PARAMETERS,
            "responses": {
                "200": _json("A page of calls.", _ref("CallPage")),
                "400": _error_ref("InvalidParameter"),
                "403": _error_ref("Forbidden"),
                **_PROTECTED_ERRORS,
            },
        }
    },
    "/api/lag": {
        "get": {
            "operationId": "getLag",
            "tags": ["operations"],
            "summary": "Consumer lag per group, topic and partition, and data staleness",
            "description": "Committed offset, end offset (the high watermark a fetch reports) "
            "and lag per input partition of the worker's consumer group, and the age in seconds "
            "of the newest row each table received.",
            "responses": {
                "200": _json("The lag.", {"type": "object"}),
                "400": _error_ref("InvalidParameter"),
                "403": _error("Not an admin token: lag spans every tenant."),
                "503": _error_ref("Unavailable"),
                **_PROTECTED_ERRORS,
            },
        }
    },
    "/api/calls/{call_id}": {
        "get": {
            "operationId": "getCall",
            "tags": ["calls"],
            "summary": "A call with its participants and events",
            "description": "A call of another enterprise answers 404, exactly as a missing one.",
            "parameters": [
                {
                    "name": "call_id",
                    "in": "path",
                    "required": True,
                    "description": "The Asterisk UniqueId (calls.unique_id).",
                    "schema": _TEXT,
                }
            ],
            "responses": {
                "200": _json("The call.", _ref("CallDetail")),
                "400": _error_ref("InvalidParameter"),
                "404": _error_ref("NotFound"),
                **_PROTECTED_ERRORS,
            },
        }
    },
    "/api/dictionaries/{kind}": {
        "get": {
            "operationId": "getDictionary",
            "tags": ["dictionaries"],
            "summary": "Reference dimension members (SCD2): current, or as of `at`",
            "description": (
                "The token's enterprises' members and the global ones (enterpriseId ''). Where"
                " sources disagree, the kind's master source system wins."
            ),
            "parameters": DICTIONARY_PARAMETERS,
            "responses": {
                "200": _json("The members.", DICTIONARY_SCHEMA),
                "400": _error_ref("InvalidParameter"),
                "403": _error_ref("Forbidden"),
                "404": _error_ref("NotFound"),
                **_PROTECTED_ERRORS,
            },
        }
    },
    "/api/ingest/interactions": {
        "post": {
            "operationId": "ingestInteractions",
            "tags": ["ingest"],
            "summary": "Post one interaction or up to 1000; idempotent by external_id",
            "description": (
                "Published to ingest.interactions and stored by the worker, so they appear in"
                " queries shortly after the 202. Posting the same content again changes"
                " nothing; posting an external_id with other content replaces it."
            ),
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": INGEST_REQUEST_SCHEMA}},
            },
            "responses": {
                "202": _json("The broker has every item.", INGEST_RESPONSE_SCHEMA),
                "400": _error("An item is invalid (`invalid_body`; `index`, `field` say where)."),
                "403": _error_ref("Forbidden"),
                "408": _error_ref("BodyTimeout"),
                "413": _error(
                    f"The body is over {MAX_BODY_BYTES:,} bytes, or an item's record over"
                    f" {MAX_ITEM_BYTES:,} bytes (`payload_too_large`)."
                ),
                **_PROTECTED_ERRORS,
                "503": _error("The broker or the schema registry is unavailable; retry later."),
            },
        }
    },
    "/api/kpis": {
        "get": {
            "operationId": "getKpis",
            "tags": ["analytics"],
            "summary": "Contact-centre KPIs of a range, with the queue depth across it",
            "description": (
                "Ranges are half-open [from, to) and need not be aligned: whole quarter hours"
                " come from the 15-minute facts, the rest from the sessions themselves."
            ),
            "parameters": KPIS_PARAMETERS,
            "responses": {
                "200": _json("The KPIs.", KPIS_SCHEMA),
                "400": _error_ref("InvalidParameter"),
                "403": _error_ref("Forbidden"),
                **_PROTECTED_ERRORS,
            },
        }
    },
    "/api/timeseries": {
        "get": {
            "operationId": "getTimeseries",
            "tags": ["analytics"],
            "summary": "One metric per bucket of a range",
            "description": (
                "Each value is the metric of that bucket's figures alone (responseSec: the"
                " nearest-rank p95 of the bucket's responses; queueDepth: sessions waiting at"
                " the bucket start, null for instants still to come)."
            ),
            "parameters": TIMESERIES_PARAMETERS,
            "responses": {
                "200": _json("One entry per bucket.", TIMESERIES_SCHEMA),
                "400": _error_ref("InvalidParameter"),
                "403": _error_ref("Forbidden"),
                **_PROTECTED_ERRORS,
            },
        }
    },
    "/api/queues": {
        "get": {
            "operationId": "listQueueKpis",
            "tags": ["analytics"],
            "summary": "The KPIs per queue",
            "description": (
                "A row per queue with a session in the range; the KPIs as /api/kpis"
                " computes them, on that queue's sessions, wrap-ups and responses."
            ),
            "parameters": RANGE_PARAMETERS,
            "responses": {
                "200": _json("The queues.", QUEUES_SCHEMA),
                "400": _error_ref("InvalidParameter"),
                "403": _error_ref("Forbidden"),
                **_PROTECTED_ERRORS,
            },
        }
    },
    "/api/operators": {
        "get": {
            "operationId": "listOperatorKpis",
            "tags": ["analytics"],
            "summary": "The KPIs, talk, wrap-up and state time per agent",
            "description": (
                "A row per agent who answered, wrapped up or replied in the range or, without"
                " a queue_id or channel filter, logged time or a ring-no-answer there. Login,"
                " ready and not-ready time is the spans' overlap with the range; a wrap-up"
                " counts where it started."
            ),
            "parameters": RANGE_PARAMETERS,
            "responses": {
                "200": _json("The agents.", OPERATORS_SCHEMA),
                "400": _error_ref("InvalidParameter"),
                "403": _error_ref("Forbidden"),
                **_PROTECTED_ERRORS,
            },
        }
    },
    "/masterdeal": {
        "get": {
            "operationId": "listMasterDeals",
            "tags": ["masterdeal"],
            "summary": "The token's enterprises' deals, newest change first, a page at a time",
            "description": (
                "Ordered by the deal's last change (the time of its latest domain event), then"
                " master_deal_id. Keyset pagination: follow `next_cursor` until it is null; a"
                " deal added or changed meanwhile never repeats or hides another. Without"
                " `from`/`to` every deal is listed, whenever it last changed. SLA state is as"
                " of the request, as GET /masterdeal/{id} reports it."
            ),
            "parameters": MASTER_DEAL_LIST_PARAMETERS,
            "responses": {
                "200": _json("A page of deals.", MASTER_DEAL_LIST_SCHEMA),
                "400": _error_ref("InvalidParameter"),
                "403": _error_ref("Forbidden"),
                **_PROTECTED_ERRORS,
            },
        }
    },
    "/masterdeal/{id}": {
        "get": {
            "operationId": "getMasterDeal",
            "tags": ["masterdeal"],
            "summary": "A master deal: stage, history, domain statuses, SLA, canonical events",
            "description": (
                "A deal outside the token's enterprises answers 404, exactly as a missing one."
                " SLA breaches are as of the request; a deal appears once its crm.deal.created"
                " is stored."
            ),
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "description": "A master_deal_id or a CRM deal_id.",
                    "schema": _TEXT,
                }
            ],
            "responses": {
                "200": _json("The master deal.", MASTER_DEAL_SCHEMA),
                "400": _error_ref("InvalidParameter"),
                "404": _error_ref("NotFound"),
                **_PROTECTED_ERRORS,
            },
        }
    },
}

COMPONENTS: Schema = {
    "securitySchemes": {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "`switchboard token create --enterprise E` prints one.",
        },
        "basicAuth": {
            "type": "http",
            "scheme": "basic",
            "description": "Any user name, a token as the password: Schema Registry writes.",
        },
    },
    "schemas": {
        "Error": ERROR,
        "Call": CALL,
        "CallParticipant": PARTICIPANT,
        "CallEvent": EVENT,
        "CallDetail": CALL_DETAIL,
        "CallPage": CALL_PAGE,
        "Dependency": DEPENDENCY,
        "Health": HEALTH,
    },
    "responses": {
        "InvalidParameter": _error(
            "A path or query parameter is invalid (`invalid_parameter`, with `parameter`), e.g."
            " text holding NUL, which nothing can store."
        ),
        "BodyTimeout": _error(
            f"The body did not arrive within {BODY_TIMEOUT_SEC:g} s (`request_timeout`)."
        ),
        "Unauthorized": _error("No bearer token, or one that is unknown or revoked."),
        "Forbidden": _error("The enterprise is outside the token's enterprises."),
        "NotFound": _error("No such resource."),
        "InternalError": _error("An unexpected error; the details are in the server's log."),
        "Unavailable": _error("The database is unavailable; retry later."),
    },
}

TAGS = [
    {"name": "operations", "description": "Health, metrics and this document."},
    {"name": "calls", "description": "Calls, their participants and events (seed 002 tables)."},
    {"name": "analytics", "description": "Contact-centre KPIs (contract section 7)."},
    {
        "name": "schema-registry",
        "description": (
            f"The built-in Schema Registry under {SCHEMA_REGISTRY_PREFIX}: the subset of the"
            " Confluent Schema Registry REST API that standard clients use. Reads are open;"
            " writes need an admin token (`token create --admin`), by bearer or basic auth."
        ),
        "externalDocs": {
            "url": "https://docs.confluent.io/platform/current/schema-registry/develop/api.html"
        },
    },
]


def build_openapi(app: web.Application) -> Schema:
    """The document for `app`'s routes."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Switchboard API",
            "version": _package_version(),
            "description": "Read-only queries over what Switchboard stored, JSON in UTC.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": TAGS,
        "security": [{"bearerAuth": []}],
        "paths": {**PATHS, **schema_registry_paths(app)},
        "components": COMPONENTS,
    }


def schema_registry_paths(app: web.Application) -> dict[str, dict[str, Schema]]:
    """An entry per route under the Schema Registry prefix, summarised from its handler."""
    paths: dict[str, dict[str, Schema]] = {}
    for route in app.router.routes():
        template = route.resource.canonical if route.resource else ""
        if template != SCHEMA_REGISTRY_PREFIX and not template.startswith(
            SCHEMA_REGISTRY_PREFIX + "/"
        ):
            continue
        for method in documented_methods(route.method):
            paths.setdefault(template, {})[method] = {
                "tags": ["schema-registry"],
                "summary": _summary(route.handler) or f"{method.upper()} {template}",
                "security": _registry_security(method, route.handler),
                "parameters": [
                    {"name": name, "in": "path", "required": True, "schema": _TEXT}
                    for name in _PATH_PARAMETER.findall(template)
                ],
                "responses": {
                    "default": {
                        "description": "As the Confluent Schema Registry answers; errors found"
                        " before the registry sees the request (a NUL in a parameter, a body"
                        " too slow or too large) in this API's JSON error shape.",
                        "content": {
                            "application/vnd.schemaregistry.v1+json": {"schema": {}},
                            "application/json": {"schema": {}},
                        },
                    }
                },
            }
    return paths


def _registry_security(method: str, handler: Any) -> list[Schema]:
    if not needs_admin(method.upper(), handler):
        return []
    return [{"bearerAuth": []}, {"basicAuth": []}]


def documented_methods(method: str) -> list[str]:
    """The OpenAPI operations of an aiohttp route; HEAD is implied by GET, `*` is every method."""
    if method == hdrs.METH_ANY:
        return ["get", "post", "put", "delete", "patch"]
    if method == hdrs.METH_HEAD:
        return []
    return [method.lower()]


def _summary(handler: Any) -> str:
    doc = inspect.getdoc(handler)
    return doc.splitlines()[0] if doc else ""


def _package_version() -> str:
    try:
        return version("switchboard")
    except PackageNotFoundError:
        return "0+unknown"
