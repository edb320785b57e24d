"""A locked registry and the token model, against the real `switchboard api` process of the
session (`api_url`) and confluent-kafka's own clients: writes need an admin token by bearer or
basic auth, reads stay open, tokens are listed and revoked through the CLI, and no header
bytes at all make the API answer anything but JSON 4xx."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from multidict import CIMultiDict

from api.auth import create_token
from schemas.topics import INGEST_INTERACTIONS, TELEPHONY_CALLS
from switchboard.runtime.embedded import free_port
from switchboard.settings import Settings
from tests.support.api import bearer, serve_settings
from tests.support.stack import launch_api, wait_until
from tests.support.traffic import CALL_EVENT

pytestmark = pytest.mark.integration

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
PATH = "/api/ingest/interactions"
RECORD = '{"type": "record", "name": "Probe", "fields": [{"name": "id", "type": "string"}]}'
# (method, path under the registry, body): every kind of write a client can make.
WRITES = [
    ("POST", "/subjects/{subject}/versions", {"schema": RECORD}),
    ("DELETE", "/subjects/{subject}", None),
    ("DELETE", "/subjects/{subject}/versions/1", None),
    ("PUT", "/config", {"compatibility": "NONE"}),
    ("PUT", "/config/{subject}", {"compatibility": "NONE"}),
    ("DELETE", "/config", None),
    ("DELETE", "/config/{subject}", None),
    ("PUT", "/mode", {"mode": "READONLY"}),
    ("PUT", "/mode/{subject}", {"mode": "IMPORT"}),
]


def unique_subject() -> str:
    return f"auth-{uuid.uuid4().hex[:10]}-value"


@dataclass(frozen=True)
class Reply:
    status_code: int
    headers: CIMultiDict[str]
    text: str

    def json(self) -> Any:
        return orjson.loads(self.text)


def request(
    method: str,
    url: str,
    *,
    body: object = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
) -> Reply:
    """One HTTP request, blocking like the confluent clients here; `auth` is basic auth."""
    return asyncio.run(_request(method, url, body, headers or {}, auth))


async def _request(
    method: str,
    url: str,
    body: object,
    headers: dict[str, str],
    auth: tuple[str, str] | None,
) -> Reply:
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
        session.request(
            method,
            url,
            data=None if body is None else orjson.dumps(body),
            headers={"Content-Type": CONTENT_TYPE, **headers},
            auth=aiohttp.BasicAuth(*auth) if auth else None,
        ) as response,
    ):
        return Reply(response.status, CIMultiDict(response.headers), await response.text())


@pytest.fixture(scope="module")
def tenant_token(api_database_url: str) -> str:
    return asyncio.run(create_token(api_database_url, ["e1"], "a tenant"))


@pytest.fixture(scope="module")
def admin_token(api_database_url: str) -> str:
    return asyncio.run(create_token(api_database_url, ["e1"], "an admin", admin=True))


@pytest.fixture
def subject(registry_url: str, admin_token: str) -> str:
    """A subject of the test's own, with version 1 registered by an admin."""
    name = unique_subject()
    registered = request(
        "POST",
        f"{registry_url}/subjects/{name}/versions",
        body={"schema": RECORD},
        headers=bearer(admin_token),
    )
    assert registered.status_code == 200, registered.text
    return name


class TestWrites:
    @pytest.mark.parametrize(("method", "path", "body"), WRITES)
    @pytest.mark.parametrize("credentials", [None, "Bearer sbt_unknown", "Basic eDpzYnRfbm9wZQ=="])
    def test_without_a_valid_token_every_write_is_401_in_confluent_shape(
        self,
        registry_url: str,
        method: str,
        path: str,
        body: object,
        credentials: str | None,
    ) -> None:
        headers = {"Authorization": credentials} if credentials else {}
        url = registry_url + path.format(subject=unique_subject())

        response = request(method, url, body=body, headers=headers)

        assert response.status_code == 401, response.text
        assert response.headers["Content-Type"].startswith(CONTENT_TYPE)
        assert response.json()["error_code"] == 40101
        assert "Basic" in response.headers["WWW-Authenticate"]

    @pytest.mark.parametrize(("method", "path", "body"), WRITES)
    def test_a_tenant_token_is_403_by_bearer_and_by_basic_auth(
        self,
        registry_url: str,
        tenant_token: str,
        method: str,
        path: str,
        body: object,
    ) -> None:
        url = registry_url + path.format(subject=unique_subject())

        by_bearer = request(method, url, body=body, headers=bearer(tenant_token))
        by_basic = request(method, url, body=body, auth=("any-user", tenant_token))

        for response in (by_bearer, by_basic):
            assert response.status_code == 403, response.text
            assert response.json()["error_code"] == 40301

    def test_an_admin_registers_by_bearer_and_by_basic_auth(
        self, registry_url: str, admin_token: str
    ) -> None:
        name = unique_subject()
        url = f"{registry_url}/subjects/{name}/versions"
        v2 = RECORD.replace(
            '"type": "string"}]', '"type": "string"}, {"name": "n", "type": "int", "default": 0}]'
        )

        first = request("POST", url, body={"schema": RECORD}, headers=bearer(admin_token))
        second = request("POST", url, body={"schema": v2}, auth=("whoever", admin_token))

        assert first.status_code == 200, first.text
        assert second.status_code == 200, second.text
        assert request("GET", url).json() == [1, 2]

    def test_reads_need_no_token(self, registry_url: str, subject: str) -> None:
        lookup = request("POST", f"{registry_url}/subjects/{subject}", body={"schema": RECORD})
        compatible = request(
            "POST",
            f"{registry_url}/compatibility/subjects/{subject}/versions/latest",
            body={"schema": RECORD},
        )

        assert request("GET", f"{registry_url}/subjects").status_code == 200
        assert request("GET", f"{registry_url}/subjects/{subject}/versions/1").status_code == 200
        assert lookup.status_code == 200 and lookup.json()["version"] == 1
        assert compatible.json() == {"is_compatible": True}


class TestConfluentClients:
    def test_basic_auth_user_info_with_an_admin_token_serializes_unchanged(
        self, registry_url: str, admin_token: str
    ) -> None:
        context = SerializationContext(f"auth-{uuid.uuid4().hex[:8]}", MessageField.VALUE)
        writer = {"url": registry_url, "basic.auth.user.info": f"x:{admin_token}"}

        with SchemaRegistryClient(writer) as registry:
            value = AvroSerializer(registry, TELEPHONY_CALLS.schema_str)(CALL_EVENT, context)
        # The reading side needs no credential at all.
        with SchemaRegistryClient({"url": registry_url}) as registry:
            decoded = AvroDeserializer(registry)(value, context)

        assert decoded == CALL_EVENT

    @pytest.mark.parametrize(("credential", "status"), [(None, 401), ("tenant", 403)])
    def test_a_refused_write_surfaces_as_a_schema_registry_error(
        self, registry_url: str, tenant_token: str, credential: str | None, status: int
    ) -> None:
        config = {"url": registry_url}
        if credential:
            config["basic.auth.user.info"] = f"x:{tenant_token}"

        with SchemaRegistryClient(config) as registry, pytest.raises(SchemaRegistryError) as err:
            registry.register_schema(unique_subject(), Schema(RECORD, "AVRO"))

        assert err.value.http_status_code == status
        assert err.value.error_code == status * 100 + 1

    @pytest.mark.parametrize("credential", [None, "tenant"])
    def test_the_attack_of_issue_8_changes_nothing(
        self, registry_url: str, tenant_token: str, subject: str, credential: str | None
    ) -> None:
        config = {"url": registry_url}
        if credential:
            config["basic.auth.user.info"] = f"attacker:{tenant_token}"

        with SchemaRegistryClient(config) as registry:
            for attack in (
                lambda: registry.set_compatibility(subject, "NONE"),
                lambda: registry.register_schema(subject, Schema('"string"', "AVRO")),
                lambda: registry.set_compatibility(subject, "BACKWARD"),
                lambda: registry.delete_version(subject, 1),
                lambda: registry.delete_subject(subject),
            ):
                with pytest.raises(SchemaRegistryError) as refused:
                    attack()
                assert refused.value.http_status_code in (401, 403)
            latest = registry.get_latest_version(subject)

        assert (latest.version, latest.schema.schema_str) == (1, RECORD)
        assert request("GET", f"{registry_url}/subjects/{subject}/versions").json() == [1]
        own_level = request("GET", f"{registry_url}/config/{subject}")
        assert own_level.status_code == 404  # never set


def raw_request(url: str, header: bytes) -> tuple[int, bytes, bytes]:
    """Sends `header` verbatim (bytes no HTTP client would send); (status, headers, body)."""
    host, port = url.removeprefix("http://").split(":")
    request_bytes = (
        b"GET /api/calls HTTP/1.1\r\nHost: " + host.encode() + b"\r\n" + header + b"\r\n"
        b"Connection: close\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request_bytes)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head, body


@pytest.mark.parametrize(
    "header",
    [
        b"Authorization: Bearer sbt_caf\xc3\xa9",
        b"Authorization: Bearer sbt_\xe9\xff",
        b"Authorization: Basic \xe9\xe9\xe9",
        b"Authorization: Basic " + b"QUJD" * 1000,
        b"Authorization: Basic eDp4Ong=====",
        b"Authorization: Basic " + base64.b64encode(b"u:\xff\xfe\x00"),
        b"Authorization: Bearer " + b"a" * 6000,
        b"Authorization: Negotiate sbt_abc",
    ],
)
def test_no_authorization_bytes_give_anything_but_a_json_401(api_url: str, header: bytes) -> None:
    status, head, body = raw_request(api_url, header)

    assert status == 401, (head, body)
    assert orjson.loads(body)["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "header", [b"Authorization: Bearer sbt_a\x00b", b"Authorization: Negotiate \x01\x02"]
)
def test_control_bytes_in_a_header_are_a_json_400(api_url: str, header: bytes) -> None:
    # HTTP forbids them in a field value: the parser refuses the request before auth runs.
    status, head, body = raw_request(api_url, header)

    assert status == 400, (head, body)
    assert orjson.loads(body)["error"]["code"] == "bad_request"


def switchboard(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestTokenCommands:
    def test_create_list_use_and_revoke(self, api_database_url: str, registry_url: str) -> None:
        name = f"cli-{uuid.uuid4().hex[:8]}"
        created = switchboard(
            api_database_url, "token", "create", "--enterprise", "e9", "--admin", "--name", name
        )
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        write = f"{registry_url}/config/{unique_subject()}"
        used = request("PUT", write, body={"compatibility": "FULL"}, headers=bearer(token))
        assert used.status_code == 200, used.text

        def listed() -> dict[str, Any]:
            result = switchboard(api_database_url, "token", "list", "--json")
            assert result.returncode == 0, result.stderr
            assert token not in result.stdout
            (mine,) = [t for t in orjson.loads(result.stdout) if t["name"] == name]
            return dict(mine)

        mine = listed()
        assert (mine["enterprises"], mine["admin"], mine["revokedAt"]) == (["e9"], True, None)
        used_at = datetime.fromisoformat(mine["lastUsedAt"])
        assert datetime.fromisoformat(mine["createdAt"]) <= used_at <= datetime.now(UTC)
        table = switchboard(api_database_url, "token", "list")
        assert "LAST USED" in table.stdout and name in table.stdout and token not in table.stdout

        revoked = switchboard(api_database_url, "token", "revoke", str(mine["id"]))
        assert revoked.returncode == 0, revoked.stderr
        assert listed()["revokedAt"] is not None

        def refused() -> bool:
            response = request("PUT", write, body={"compatibility": "FULL"}, headers=bearer(token))
            return response.status_code == 401

        wait_until(refused, timeout=15, interval=0.5, what="the revoked token to be refused")

    def test_revoking_an_unknown_id_fails_clearly(self, api_database_url: str) -> None:
        result = switchboard(api_database_url, "token", "revoke", "987654321")

        assert result.returncode == 1
        assert "no token has id 987654321" in result.stderr


def test_api_lag_needs_an_admin_token(api_url: str, tenant_token: str, admin_token: str) -> None:
    anonymous = request("GET", f"{api_url}/api/lag")
    tenant = request("GET", f"{api_url}/api/lag", headers=bearer(tenant_token))
    admin = request("GET", f"{api_url}/api/lag", headers=bearer(admin_token))

    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "unauthorized")
    assert (tenant.status_code, tenant.json()["error"]["code"]) == (403, "forbidden")
    # Past the gate: what the lag says of a group this broker never saw is test_lag.py's matter.
    assert admin.status_code not in (401, 403), admin.text
    assert admin.status_code == 200 or admin.json()["error"]["code"] == "unavailable"


@pytest.fixture
def api_with_external_registry(
    make_database: Callable[[], str], broker: str, registry_url: str, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """A second `switchboard api`, told to use the first one's registry; (URL, its token)."""
    database = make_database()
    env = {
        "DATABASE_URL": database,
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "SCHEMA_REGISTRY_URL": registry_url,
        "SWITCHBOARD_HOME": str(tmp_path / "home"),
    }
    api, url = launch_api(env, tmp_path / "api.log", what="the second API")
    try:
        yield url, asyncio.run(create_token(database, ["e1"], "reader"))
    finally:
        api.stop()


def test_with_schema_registry_url_set_no_registry_is_served(
    api_with_external_registry: tuple[str, str],
) -> None:
    url, token = api_with_external_registry
    for method in ("GET", "POST", "PUT"):
        response = request(method, f"{url}/schema-registry/config")
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    document = request("GET", f"{url}/api/openapi.json", headers=bearer(token))
    assert not any(path.startswith("/schema-registry") for path in document.json()["paths"])


def test_up_gives_its_children_and_other_terminals_an_admin_registry_credential(
    make_database: Callable[[], str], tmp_path: Path
) -> None:
    """`up` keeps serving the built-in registry (it passes no SCHEMA_REGISTRY_URL on), and its
    service token, published in a runtime file only its user can read, lets `produce` in
    another terminal register."""
    home, port = tmp_path / "home", free_port()
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SWITCHBOARD_", "KAFKA_", "DATABASE_", "SCHEMA_REGISTRY_"))
    }
    terminal = {**clean, "SWITCHBOARD_HOME": str(home)}
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        up = subprocess.Popen(
            [sys.executable, "-m", "switchboard", "up"],
            env={
                **terminal,
                "DATABASE_URL": make_database(),
                "SWITCHBOARD_API_PORT": str(port),
                "SWITCHBOARD_WORKER_WEB_PORT": "0",
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: up.poll() is not None or "ready;" in log_path.read_text(errors="replace"),
            timeout=120,
            what="`switchboard up` to be ready",
        )
        assert up.poll() is None, log_path.read_text(errors="replace")
        runtime_file = home / "runtime.json"
        runtime = orjson.loads(runtime_file.read_bytes())

        assert runtime_file.stat().st_mode & 0o777 == 0o600
        assert runtime["schema_registry_url"] is None
        assert runtime["schema_registry_basic_auth_user_info"].startswith("switchboard:sbt_")
        call = orjson.dumps({**CALL_EVENT, "occurred_at": "2026-05-04T10:30:15Z"})
        produced = subprocess.run(
            [sys.executable, "-m", "switchboard", "produce", "telephony.calls", "-"],
            env=terminal,
            input=call + b"\n",
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert produced.returncode == 0, produced.stderr
        subjects = request("GET", f"http://127.0.0.1:{port}/schema-registry/subjects").json()
        assert TELEPHONY_CALLS.subject in subjects
        refused = request(
            "POST",
            f"http://127.0.0.1:{port}/schema-registry/subjects/{unique_subject()}/versions",
            body={"schema": RECORD},
        )
        assert refused.status_code == 401
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()


async def test_the_api_registers_its_ingest_schema_in_process_without_a_credential(
    make_database: Callable[[], str], broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No credential anywhere: the API with the built-in registry needs none for its own schema.
    monkeypatch.delenv("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", raising=False)
    database = make_database()
    token = await create_token(database, ["e1"], "ingest")
    settings = Settings(database_url=database, kafka_bootstrap_servers=broker, api_port=0)
    item = {"external_id": f"x-{uuid.uuid4().hex[:8]}", "enterprise_id": "e1", "channel": "chat"}

    async with serve_settings(settings) as client:
        response = await client.post(PATH, json=item, headers=bearer(token))
        assert response.status == 202, await response.text()
        subjects = await client.get("/schema-registry/subjects")
        assert INGEST_INTERACTIONS.subject in await subjects.json()
