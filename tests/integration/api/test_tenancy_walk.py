"""Every route of /api/openapi.json, asked by tenant bravo about tenant alpha's ids.

Both tenants have a call (with a participant and an event), a master deal, queue sessions,
agent states and chat responses, dictionary rows and a posted interaction. For every operation
the document lists (so a route added later is walked without touching this file), bravo names
each of alpha's ids in turn, in the path, the query or the body, and the answer must be the one
an id that exists nowhere gets, status and body alike, once both ids are blanked out; and no
answer bravo gets may carry anything of alpha's (every alpha value contains "alpha").
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import asyncpg
import orjson
import pytest
import pytest_asyncio

from api.auth import create_token
from sinks.contact_centre.interactions import write_interactions
from sinks.contact_centre.outcomes import write_outcomes
from sinks.masterdeal.deals import write_deals
from streams.contact_centre.interactions import InteractionEvent, interaction_record
from streams.contact_centre.outcomes import OutcomeEvent
from streams.contact_centre.queue_sessions import Outcome
from streams.masterdeal.events import DealEvent
from streams.masterdeal.ids import master_deal_id_for
from streams.masterdeal.sla_policy import SlaPolicy
from streams.telephony.agent_states import AgentState
from tests.support.analytics_facts import Facts, insert_dimension, write
from tests.support.analytics_world import at, response, session, span
from tests.support.api import (
    Client,
    bearer,
    insert_call,
    insert_event,
    insert_participant,
    serve_settings,
    settings_for,
)
from tests.support.clock import ANALYTICS_T0 as T0

pytestmark = pytest.mark.integration

ALPHA, BRAVO = "ent-alpha", "ent-bravo"
MARKER = "alpha"  # in every value of alpha's: an answer to bravo must never hold it

# Not tenant data, so not walked: open routes (the health check, Prometheus metrics, the
# Schema Registry, which contract 3 leaves readable), the admin-only operations view, and the
# dashboard's static page and assets. Knowledge search needs pgvector, which this PostgreSQL
# lacks (it answers 503): tests/integration/knowledge/ walks its tenancy on a pgserver cluster.
SKIPPED_PATHS = frozenset(
    {"/health", "/metrics", "/api/lag", "/", "/assets/{name}", "/api/voicebot/knowledge/search"}
)
SKIPPED_PREFIXES = ("/schema-registry",)

# alpha's ids by the parameter (path, query or body field) that names them.
PROBES: dict[str, tuple[str, ...]] = {
    "call_id": ("alpha-call-1",),
    "id": ("alpha-deal", master_deal_id_for("alpha-deal")),
    "deal_id": ("alpha-deal",),
    "master_deal_id": (master_deal_id_for("alpha-deal"),),
    "enterprise_id": (ALPHA,),
    "queue_id": ("alpha-q",),
    "agent_id": ("alpha-agent",),
    "phone_number": ("alpha-phone",),
    "extension": ("alpha-ext",),
    "conversation_id": ("alpha-chat",),
    "external_id": ("alpha-ext-id",),
    "test_name": ("alpha-test",),
}
RANGE = {"from": "2025-03-10T00:00:00Z", "to": "2025-03-11T00:00:00Z"}


def missing(name: str) -> str:
    """An id of the same kind that exists for no tenant."""
    return f"zulu-{name}-404"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


@dataclass(frozen=True)
class World:
    client: Client
    bravo: dict[str, str]

    async def ask(
        self, method: str, path: str, query: dict[str, str], body: object | None
    ) -> Answer:
        response = await self.client.request(
            method,
            path,
            params=query,
            headers=self.bravo,
            data=None if body is None else orjson.dumps(body),
        )
        return Answer(response.status, await response.text())


# -- two tenants' data ---------------------------------------------------------------------------


def deal(deal_id: str, enterprise: str) -> list[DealEvent]:
    steps = ("crm.deal.created", "crm.brief.submitted")
    return [
        DealEvent(
            event_key=f"{deal_id}:{n}",
            event_id=f"{deal_id}-{n}",
            source_system="crm",
            occurred_at=T0 + timedelta(hours=n),
            correlation_id=f"{deal_id}-corr",
            event_type=event_type,
            deal_id=deal_id,
            domain_status=f"{deal_id} status",
            enterprise_id=enterprise,
        )
        for n, event_type in enumerate(steps)
    ]


def post(tenant: str, enterprise: str) -> InteractionEvent:
    item = {
        "external_id": f"{tenant}-ext-id",
        "enterprise_id": enterprise,
        "channel": "voice",
        "call_id": f"{tenant}-call-1",
        "queue_id": f"{tenant}-q",
        "agent_id": f"{tenant}-agent",
        "attributes": {"note": f"{tenant} private note"},
    }
    record = interaction_record(item, received_at=T0)
    return InteractionEvent.from_record(f"api:{record['event_id']}", record)


def outcome(tenant: str) -> OutcomeEvent:
    return OutcomeEvent.from_record(
        f"crm:{tenant}-outcome",
        {
            "event_id": f"{tenant}-outcome",
            "source_system": "crm",
            "occurred_at": T0,
            "call_id": f"{tenant}-call-1",
            "outcome": f"{tenant} sold",
        },
    )


def facts(tenant: str, enterprise: str) -> Facts:
    queue, agent = f"{tenant}-q", f"{tenant}-agent"
    return Facts(
        sessions=[
            session(enterprise, f"{tenant}-call-1", queue, 5, Outcome.ANSWERED, 12, agent=agent),
            session(enterprise, f"{tenant}-call-2", queue, 9, Outcome.ABANDONED, 30),
        ],
        spans=[span(agent, AgentState.LOGIN, 0, 60, enterprise=enterprise)],
        responses=[response(f"{tenant}-chat", queue, 3, 40, agent=agent, enterprise=enterprise)],
    )


async def seed(conn: asyncpg.Connection, tenant: str, enterprise: str) -> None:
    call = await insert_call(
        conn,
        f"{tenant}-call-1",
        enterprise,
        at(5),
        phone_number=f"{tenant}-phone",
        main_extension=f"{tenant}-ext",
        raw_data={"caller": f"{tenant} caller"},
    )
    await insert_participant(conn, call, f"{tenant}-ext")
    await insert_event(
        conn, call, f"{tenant}-call-1", "hangup", at(7), enterprise_id=enterprise, event_sequence=1
    )
    await write_deals(conn, deal(f"{tenant}-deal", enterprise), sla=SlaPolicy())
    await write(conn, facts(tenant, enterprise))
    since = datetime(2020, 1, 1, tzinfo=UTC)
    await insert_dimension(conn, "queue", enterprise, f"{tenant}-q", f"{tenant} queue", since)
    await insert_dimension(conn, "agent", enterprise, f"{tenant}-agent", f"{tenant} agent", since)
    await write_interactions(conn, [post(tenant, enterprise)])
    await write_outcomes(conn, [outcome(tenant)])
    await seed_voicebot(conn, tenant, enterprise)


async def seed_voicebot(conn: asyncpg.Connection, tenant: str, enterprise: str) -> None:
    """A bot call (transferred into the tenant's queue session), a turn, a tool call, a test."""
    for table in ("voicebot.calls", "voicebot.call_turns", "voicebot.call_tool_calls"):
        await conn.execute("SELECT switchboard_ensure_partition($1, $2)", table, at(1))
    call, name = f"{tenant}-call-1", f"{tenant} bot"
    version = "$1, $2 || ':' || $3, $2 || ':' || $3"  # source_system, event_id, event_key
    await conn.execute(
        "INSERT INTO voicebot.calls (enterprise_id, id, started_at, scenario,"
        " transferred_to_operator, transfer_reason, prompt_version, quality_score,"
        " cost_breakdown, source_system, event_id, event_key, occurred_at)"
        f" VALUES ($4, $3, $5, $2, true, $2, $2, 0.5, '{{\"llm\": 0.1}}', {version}, $5)",
        name,
        f"{tenant}-v",
        call,
        enterprise,
        at(1),
    )
    await conn.execute(
        "INSERT INTO voicebot.call_turns (enterprise_id, call_id, turn_number, speaker,"
        " content, llm_latency_ms, tts_latency_ms, created_at, source_system, event_id,"
        f" event_key) VALUES ($4, $3, 1, 'bot', $2, 700, 200, $5, {version})",
        name,
        f"{tenant}-t",
        call,
        enterprise,
        at(2),
    )
    await conn.execute(
        "INSERT INTO voicebot.call_tool_calls (enterprise_id, call_id, turn_number, tool_name,"
        " tool_args, duration_ms, success, created_at, source_system, event_id, event_key)"
        f" VALUES ($4, $3, 1, $2, '{{}}', 300, true, $5, {version})",
        name,
        f"{tenant}-tool",
        call,
        enterprise,
        at(2),
    )
    await conn.execute(
        "INSERT INTO voicebot.prompt_ab_tests (enterprise_id, test_name, variant_a, variant_b,"
        " status, started_at, source_system, event_id, event_key, occurred_at)"
        f" VALUES ($4, $3, $2, $2, 'running', $5, {version}, $5)",
        name,
        f"{tenant}-v",
        f"{tenant}-test",
        enterprise,
        at(0),
    )


@pytest_asyncio.fixture(scope="module")
async def world(
    make_database: Callable[[], str], broker: str, registry_url: str
) -> AsyncIterator[World]:
    url = make_database()
    conn = await asyncpg.connect(url)
    try:
        await seed(conn, "alpha", ALPHA)
        await seed(conn, "bravo", BRAVO)
    finally:
        await conn.close()
    bravo = bearer(await create_token(url, [BRAVO], "bravo"))
    settings = settings_for(url, broker, schema_registry_url=registry_url)
    async with serve_settings(settings) as client:
        yield World(client, bravo)


# -- the walk ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: object | None


@dataclass(frozen=True)
class Probe:
    """The same request naming one of alpha's ids, and naming an id that does not exist."""

    name: str
    alpha: Request
    nowhere: Request
    blanks: tuple[str, str]


def _schema_value(name: str, schema: dict[str, Any]) -> str:
    if name in RANGE:
        return RANGE[name]
    if schema.get("enum"):
        return str(schema["enum"][0])
    if schema.get("format") == "date-time":
        return RANGE["from"]
    pytest.fail(f"no value for the required parameter {name!r}: add one to the walk")


def _body_schema(operation: dict[str, Any], document: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return None
    schema = _resolved(schema, document)
    while "oneOf" in schema or "anyOf" in schema:  # the single-object form, where there is one
        branches = [_resolved(b, document) for b in schema.get("oneOf") or schema["anyOf"]]
        schema = next((b for b in branches if b.get("type") == "object"), branches[0])
    return dict(schema)


def _resolved(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The schema a `$ref` (to components of the document) points to."""
    while "$ref" in schema:
        found: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        schema = found
    return schema


def _base_body(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The smallest body the schema asks for, naming bravo's own ids where it names any."""
    if schema is None:
        return None
    properties = schema.get("properties", {})
    return {
        name: BRAVO if name == "enterprise_id" else f"walk-{name}"
        for name in schema.get("required", [])
        if properties.get(name, {}).get("type") in ("string", ["string", "null"], None)
    }


def _fill(template: str, values: dict[str, str]) -> str:
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def requests_of(document: dict[str, Any]) -> Iterator[tuple[Request, list[Probe]]]:
    """Each operation's plain request (bravo's own view), with the probes of alpha's ids."""
    for template, operations in document["paths"].items():
        if template in SKIPPED_PATHS or template.startswith(SKIPPED_PREFIXES):
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or method.startswith("x-"):
                continue
            yield from _operation(method.upper(), template, operation, document)


def _operation(
    method: str, template: str, operation: dict[str, Any], document: dict[str, Any]
) -> Iterator[tuple[Request, list[Probe]]]:
    parameters = operation.get("parameters", [])
    path_params = [p for p in parameters if p["in"] == "path"]
    query = {
        p["name"]: _schema_value(p["name"], p.get("schema", {}))
        for p in parameters
        if p["in"] == "query" and p.get("required")
    }
    schema = _body_schema(operation, document)
    body = _base_body(schema)
    for path_values in _path_variants(template, path_params):
        path = _fill(template, path_values)
        probes = [
            _probe(name, method, path, query, body, value, in_query=True)
            for p in parameters
            if p["in"] == "query" and (name := p["name"]) in PROBES
            for value in PROBES[name]
        ]
        if body is not None and schema is not None:
            probes += [
                _probe(name, method, path, query, body, value, in_query=False)
                for name in schema.get("properties", {})
                if name in PROBES
                for value in PROBES[name]
            ]
        yield Request(method, path, query, body), probes
    for p in path_params:
        if p["name"] not in PROBES:
            continue
        others = [q for q in path_params if q is not p]
        for values in _path_variants(template, others):
            for value in PROBES[p["name"]]:
                nowhere = missing(p["name"])
                yield (
                    Request(method, _fill(template, {**values, p["name"]: nowhere}), query, body),
                    [
                        Probe(
                            p["name"],
                            Request(
                                method, _fill(template, {**values, p["name"]: value}), query, body
                            ),
                            Request(
                                method, _fill(template, {**values, p["name"]: nowhere}), query, body
                            ),
                            (value, nowhere),
                        )
                    ],
                )


def _path_variants(template: str, path_params: list[dict[str, Any]]) -> Iterator[dict[str, str]]:
    """Bravo's own values for the path parameters that are not ids: every enum member."""
    variants: list[dict[str, str]] = [{}]
    for p in path_params:
        name, schema = p["name"], p.get("schema", {})
        if name in PROBES:
            own = {"enterprise_id": BRAVO}.get(name, missing(name))
            variants = [{**v, name: own} for v in variants]
        elif schema.get("enum"):
            variants = [{**v, name: str(e)} for v in variants for e in schema["enum"]]
        else:
            pytest.fail(f"{template}: no value for the path parameter {name!r}: add it to PROBES")
    yield from variants


def _probe(
    name: str,
    method: str,
    path: str,
    query: dict[str, str],
    body: dict[str, Any] | None,
    value: str,
    *,
    in_query: bool,
) -> Probe:
    nowhere = missing(name)

    def naming(v: str) -> Request:
        if in_query:
            return Request(method, path, {**query, name: v}, body)
        return Request(method, path, query, {**(body or {}), name: v})

    return Probe(name, naming(value), naming(nowhere), (value, nowhere))


# A content hash (the eventId of a posted interaction) differs with any id the content holds.
_CONTENT_HASH = re.compile(r"\b[0-9a-f]{64}\b")
# The instant a live answer describes (GET /api/wallboard) differs between any two requests.
_AS_OF = re.compile(r'"asOf":"[^"]*"')


def blank(answer: Answer, values: tuple[str, ...]) -> Answer:
    body = _AS_OF.sub('"asOf":"<now>"', _CONTENT_HASH.sub("<hash>", answer.body))
    for value in sorted(values, key=len, reverse=True):
        for form in {value, quote(value, safe=""), orjson.dumps(value).decode()[1:-1]}:
            body = body.replace(form, "<id>")
    return Answer(answer.status, body)


async def test_no_route_tells_another_tenants_id_from_a_missing_one(world: World) -> None:
    response = await world.client.get("/api/openapi.json", headers=world.bravo)
    document = await response.json()
    walked: list[str] = []
    probed = 0
    failures: list[str] = []
    for request, probes in requests_of(document):
        own = await world.ask(request.method, request.path, request.query, request.body)
        assert own.status < 500, (request, own)
        if MARKER in own.body.lower():
            failures.append(f"{request.method} {request.path} {request.query}: leaks {own.body}")
        walked.append(f"{request.method} {request.path}")
        for probe in probes:
            alpha = await world.ask(
                probe.alpha.method, probe.alpha.path, probe.alpha.query, probe.alpha.body
            )
            nowhere = await world.ask(
                probe.nowhere.method, probe.nowhere.path, probe.nowhere.query, probe.nowhere.body
            )
            probed += 1
            seen, expected = blank(alpha, probe.blanks), blank(nowhere, probe.blanks)
            where = f"{probe.alpha.method} {probe.alpha.path} {probe.alpha.query} {probe.name}"
            if seen != expected:
                failures.append(f"{where}: alpha's id {seen} != a missing id {expected}")
            elif MARKER in seen.body.lower():
                failures.append(f"{where}: leaks {seen.body}")

    assert not failures, "\n".join(failures)
    # The walk reached the routes that hold tenant data, and probed each of them.
    for route in ("GET /api/calls/", "GET /masterdeal/", "GET /masterdeal", "GET /api/kpis"):
        assert any(w.startswith(route) for w in walked), (route, walked)
    assert probed >= 25, probed


async def test_bravo_sees_its_own_data_on_the_same_routes(world: World) -> None:
    """The walk's 'same as missing' answers are not all empty for lack of data."""
    call = await world.ask("GET", "/api/calls/bravo-call-1", {}, None)
    deal = await world.ask("GET", "/masterdeal/bravo-deal", {}, None)
    deals = await world.ask("GET", "/masterdeal", {}, None)
    queues = await world.ask("GET", "/api/queues", RANGE, None)
    names = await world.ask("GET", "/api/dictionaries/queue", {}, None)

    assert (call.status, deal.status) == (200, 200)
    assert [d["deal_id"] for d in orjson.loads(deals.body)["deals"]] == ["bravo-deal"]
    assert [q["queueId"] for q in orjson.loads(queues.body)["queues"]] == ["bravo-q"]
    assert [i["id"] for i in orjson.loads(names.body)["items"]] == ["bravo-q"]
