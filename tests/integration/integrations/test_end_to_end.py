"""The walk a user takes: `switchboard up`, a RetailCRM config saved through the API, then
`switchboard simulate`; the CRM (a real HTTP server on loopback) receives every call of that
tenant and none of another's, and the logs route shows the deliveries."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import requests

from switchboard.runtime.embedded import free_port
from tests.support.stack import wait_until
from tests.support.up import second_terminal, start_up, stop_up

pytestmark = pytest.mark.integration

TENANT = "0367"
OTHER = "0368"
API_KEY = "e2e-retailcrm-key-7a91"
# The simulated PBX's extensions (switchboard/simulation/pbx.py): 150-165.
USER_MAPPINGS = {str(extension): extension - 140 for extension in range(150, 166)}


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The fake RetailCRM in its own process: its URL and the file it records requests in."""
    port = free_port()
    record = tmp_path / "crm.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.fake_crm",
            "--port",
            str(port),
            "--record",
            str(record),
            "--api-key",
            API_KEY,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "ready" in process.stdout.readline()
        yield f"http://127.0.0.1:{port}", record
    finally:
        process.terminate()
        process.wait(timeout=30)


def recorded(record: Path) -> list[dict[str, Any]]:
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines() if line.strip()]


def switchboard(home: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "switchboard", *args],
        env=second_terminal(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


async def expected_calls(database_url: str, enterprise: str) -> dict[str, Counter[str]]:
    """What RetailCRM is owed per call: a call-card event for its live dial, its live bridge and
    its live hangup, and one history upload once the call has hung up (live or downloaded)."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            """
            SELECT c.unique_id, e.event_type, e.data_source,
                   EXISTS (SELECT 1 FROM call_participants p WHERE p.call_id = c.id) AS rang
            FROM calls c JOIN call_events e ON e.call_id = c.id
            WHERE c.enterprise_id = $1 AND c.call_type IN ('incoming', 'outgoing')
              AND c.phone_number IS NOT NULL
            """,
            enterprise,
        )
    finally:
        await conn.close()
    kinds: dict[str, set[str]] = {}
    for row in rows:
        wants = kinds.setdefault(row["unique_id"], set())
        # A card is a manager's: a call that rang no extension goes to the history only.
        if row["data_source"] == "live" and row["event_type"] != "start" and row["rang"]:
            wants.add(row["event_type"])
        if row["event_type"] == "hangup":
            wants.add("upload")
    # Once per (integration, call, event type): a second dial of a call opens no second card.
    return {
        call: Counter(
            card=len(wants & {"dial", "bridge"}),
            hangup=int("hangup" in wants),
            upload=int("upload" in wants),
        )
        for call, wants in kinds.items()
    }


def heard(seen: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    """What the CRM accepted, per call, in the same terms."""
    by_call: dict[str, Counter[str]] = {}
    for request in seen:
        if request["status"] != 200:
            continue
        if request["path"].endswith("/telephony/call/event"):
            event = json.loads(request["form"]["event"])
            kind = "hangup" if event["type"] == "hangup" else "card"
            by_call.setdefault(event["callExternalId"], Counter())[kind] += 1
        elif request["path"].endswith("/telephony/calls/upload"):
            for call in json.loads(request["form"]["calls"]):
                by_call.setdefault(call["externalId"], Counter())["upload"] += 1
    return by_call


def header(request: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in request["headers"].items() if k.lower() == name.lower()), None)


def test_a_tenant_connects_retailcrm_and_its_calls_reach_it(
    fresh_broker: str, tmp_path: Path, crm: tuple[str, Path]
) -> None:
    crm_url, record = crm
    home = tmp_path / "home"
    home.mkdir()
    up, runtime = start_up(home, fresh_broker)
    try:
        api = str(runtime["api_url"])
        database_url = str(runtime["database_url"])
        admin = switchboard(
            home, "token", "create", "--enterprise", TENANT, "--admin", "--name", "e2e"
        ).strip()
        saved = requests.put(
            f"{api}/api/integrations/{TENANT}/retailcrm",
            json={"api_url": crm_url, "api_key": API_KEY, "user_mappings": USER_MAPPINGS},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=30,
        )
        assert saved.status_code == 200, saved.text
        assert API_KEY not in saved.text
        tested = requests.post(
            f"{api}/api/integrations/{TENANT}/retailcrm/test",
            headers={"Authorization": f"Bearer {admin}"},
            timeout=30,
        )
        assert tested.json()["ok"] is True, tested.text

        switchboard(
            home,
            "simulate",
            "--scenario",
            "calls",
            "--enterprise",
            TENANT,
            "--enterprise",
            OTHER,
            "--rate",
            "2",
            "--duration",
            "60",
            "--speed",
            "0",
            "--seed",
            "12",
        )

        def missing() -> dict[str, tuple[Counter[str], Counter[str]]]:
            owed = asyncio.run(expected_calls(database_url, TENANT))
            got = heard(recorded(record))
            gaps = {c: (+w, got.get(c, Counter())) for c, w in owed.items()}
            if not owed:
                return {"(no call stored yet)": (Counter(), Counter())}
            return {c: gap for c, gap in gaps.items() if gap[0] != gap[1]}

        try:
            wait_until(lambda: not missing(), timeout=90, interval=1, what="every call heard")
        except AssertionError:
            gaps = missing()
            shown = list(gaps.items())[:5]
            raise AssertionError(f"{len(gaps)} calls owed/heard, e.g. {shown}") from None
        owed = asyncio.run(expected_calls(database_url, TENANT))
        seen = recorded(record)
        got = heard(seen)
        others = asyncio.run(expected_calls(database_url, OTHER))
        assert others and not set(got) & set(others), "another tenant's calls reached the CRM"
        assert got == {call: +wants for call, wants in owed.items() if +wants}
        assert all(header(request, "X-API-KEY") == API_KEY for request in seen)

        logs = requests.get(
            f"{api}/api/integrations/{TENANT}/logs",
            params={"type": "retailcrm", "status": "success", "limit": "1000"},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=30,
        )
        assert logs.status_code == 200, logs.text
        logged = {row["call_id"] for row in logs.json()["logs"]}
        assert logged == set(got)
        assert API_KEY not in logs.text
    finally:
        stop_up(up, home)
