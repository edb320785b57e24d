"""schemathesis over every operation of /api/openapi.json, against `switchboard api` running as
a process on a seeded database: with a tenant's token, with none, with a non-ASCII one and with
an admin's (registry writes, /api/lag). No answer may be a 5xx, and every answer must match
what the document says of its status, media type and body.

Requests go through schemathesis's own transport (requests), so they are what a client
library sends; tests/integration/api/test_malformed_http.py covers the bytes none would.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.auth import create_token
from tests.support.api import insert_call, insert_event, insert_participant
from tests.support.stack import launch_api

pytestmark = pytest.mark.integration

# Random cases per operation, generation mode and credentials, besides the deterministic ones
# (about 3,000 coverage cases per credentials): 3,703 requests per credentials in all, where
# 30 made 5,157 for a run 40% longer (`make test` must stay under 20 min on two cores).
MAX_EXAMPLES = 10
REQUEST_TIMEOUT_SEC = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# /health answers 503 by design when a dependency or the worker is down (none runs here), and
# knowledge search when the database has no pgvector (the machine's PostgreSQL 15 has none).
DESIGNED_5XX = {("GET /health", 503), ("GET /api/voicebot/knowledge/search", 503)}


@dataclass(frozen=True)
class Api:
    url: str
    token: str  # e1's
    admin: str


@pytest.fixture(scope="module")
def api(
    make_database: Callable[[], str], broker: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    database_url = make_database()
    token, admin = asyncio.run(_seed(database_url))
    env = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "SWITCHBOARD_HOME": str(tmp_path_factory.mktemp("fuzz-home")),
    }
    log = Path(tmp_path_factory.mktemp("fuzz-api")) / "api.log"
    process, url = launch_api(env, log, timeout=60)
    try:
        yield Api(url, token, admin)
    finally:
        process.stop()
    assert "Traceback" not in log.read_text(), process.log_tail()


async def _seed(database_url: str) -> tuple[str, str]:
    """Tokens for e1 and an admin, and a call of e1's with a participant and events."""
    conn = await asyncpg.connect(database_url)
    try:
        start = datetime.now(UTC) - timedelta(hours=1)
        call = await insert_call(conn, "1749034247.6528", "e1", start, phone_number="+375291234567")
        await insert_participant(conn, call, "101", ring_order=1, dial_start=start)
        await insert_event(conn, call, "1749034247.6528", "start", start, event_sequence=1)
        await insert_event(
            conn, call, "1749034247.6528", "hangup", start + timedelta(minutes=2), event_sequence=2
        )
    finally:
        await conn.close()
    return (
        await create_token(database_url, ["e1"], "fuzz"),
        await create_token(database_url, [], "fuzz admin", admin=True),
    )


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    findings: dict[str, str] = field(default_factory=dict)  # the first per operation and phase


def fuzz(api: Api, headers: dict[str, str], tally: Tally) -> None:
    schema = schemathesis.openapi.from_url(
        f"{api.url}/api/openapi.json",
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=REQUEST_TIMEOUT_SEC,
        config=schemathesis.Config(),  # the defaults: not a schemathesis.toml found nearby
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, [o.label for o in operations]
    for operation in operations:
        # Schemathesis's deterministic edge cases: boundaries, wrong types, missing values.
        coverage = operation.schema.iter_coverage_cases(
            operation,
            generation_modes=list(GenerationMode),
            generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
        )
        for case in coverage:
            exercise(api, case, headers, tally, f"{operation.label} [coverage]")
        for mode in GenerationMode:
            strategy = operation.as_strategy(generation_mode=mode)
            draw(strategy, MAX_EXAMPLES, api, headers, tally, f"{operation.label} [{mode.value}]")
        # Text PostgreSQL cannot hold, in each parameter in turn: random text rarely holds NUL.
        for parameter in operation.path_parameters:
            strategy = operation.as_strategy(path_parameters={parameter.name: "a\x00b"})
            draw(strategy, 1, api, headers, tally, f"{operation.label} [NUL {parameter.name}]")
        for parameter in operation.query:
            strategy = operation.as_strategy(query={parameter.name: "a\x00b"})
            draw(strategy, 1, api, headers, tally, f"{operation.label} [NUL {parameter.name}]")


def draw(
    strategy: Any,
    examples: int,
    api: Api,
    headers: dict[str, str],
    tally: Tally,
    label: str,
) -> None:
    """Up to `examples` cases of `strategy`, each sent and checked."""

    # Findings are collected, not raised: Hypothesis would stop there and shrink instead of
    # covering the remaining operations.
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        exercise(api, case, headers, tally, label)

    try:
        run()
    except Unsatisfiable:  # nothing to negate: an operation without parameters or body
        assert "[negative]" in label, label


def exercise(api: Api, case: Any, headers: dict[str, str], tally: Tally, label: str) -> None:
    response = case.call(base_url=api.url, headers=headers, timeout=REQUEST_TIMEOUT_SEC)
    tally.requests += 1
    tally.statuses[response.status_code] += 1
    designed = (case.operation.label, response.status_code) in DESIGNED_5XX
    if response.status_code >= 500 and not designed:
        tally.server_errors.append(f"{label}: {response.status_code}, {case.as_curl_command()}")
        return
    try:
        case.validate_response(
            response,
            checks=CHECKS,
            excluded_checks=[not_a_server_error] if designed else None,
            headers=headers,
        )
    except (Failure, FailureGroup) as exc:
        tally.findings.setdefault(label, f"{exc}\n{case.as_curl_command()}"[:2000])


CREDENTIALS: dict[str, Callable[[Api], dict[str, str]]] = {
    "token": lambda api: {"Authorization": f"Bearer {api.token}"},
    "no-token": lambda api: {},
    # Sent as the bytes 0xE9 0xFF: http.client encodes header values as Latin-1.
    "non-ASCII-token": lambda api: {"Authorization": f"Bearer {api.token}\xe9\xff"},
    # Last: its registry writes (modes, deletions) would change what the others are answered.
    "admin-token": lambda api: {"Authorization": f"Bearer {api.admin}"},
}


@pytest.mark.parametrize("credentials", CREDENTIALS)
def test_schemathesis_finds_no_5xx_and_no_answer_outside_the_document(
    api: Api, credentials: str, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = CREDENTIALS[credentials](api)
    tally = Tally()
    fuzz(api, headers, tally)

    with capsys.disabled():  # the figures belong in every run's output, passed or not
        print(
            f"\nschemathesis ({credentials}): {tally.requests} requests,"
            f" {len(tally.server_errors)} 5xx, {len(tally.findings)} findings;"
            f" statuses {dict(sorted(tally.statuses.items()))}"
        )
    for label, count in Counter(e.split(",")[0] for e in tally.server_errors).items():
        print(f"5xx x{count}: {label}")
    for label, finding in tally.findings.items():
        print(f"--- {label}\n{finding}")
    assert tally.requests > 0
    assert not tally.server_errors, "\n".join(tally.server_errors[:20])
    assert not tally.findings, "\n\n".join(f"{k}: {v}" for k, v in tally.findings.items())


def test_switchboard_api_answers_malformed_http_with_json(api: Api) -> None:
    """`switchboard api` (run_api) serves through the same JSON-error protocol as start_api."""
    host, port = api.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=REQUEST_TIMEOUT_SEC) as sock:
        sock.sendall(b"G(E)T /health HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 400 ") or head.startswith(b"HTTP/1.1 400 "), answer
    assert b"\r\nContent-Type: application/json" in head, answer
    assert orjson.loads(body)["error"]["code"] == "bad_request"
