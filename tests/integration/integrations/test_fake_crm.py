"""The fake CRM over real loopback HTTP: each adapter's requests, sent with aiohttp as the engine
sends them, are accepted and read back as RetailCRM, Telegram, a webhook receiver and MediaPush
would read them; the faults it injects are the ones the delivery tests need."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from integrations.adapters.base import MEDIAPLAN_REQUEST, HttpRequest, Outcome, Verdict
from integrations.adapters.registry import ADAPTERS
from integrations.adapters.retailcrm import (
    credentials_request,
    extension_of,
    judge_credentials,
    manager_id,
    manager_request,
)
from tests.support.fake_crm import (
    CALL_EVENT,
    CALLS_UPLOAD,
    FakeCrm,
    max_in_window,
)
from tests.support.paths import REPO
from tests.unit.integrations.adapters.samples import (
    API_KEY,
    BOT_TOKEN,
    KEY,
    WEBHOOK_SECRET,
    delivery,
    facts,
    mediapush,
    retailcrm,
    telegram,
    webhook,
)

pytestmark = pytest.mark.integration

CALL_ID = "1749033047.6528"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def send(
    session: aiohttp.ClientSession, request: HttpRequest, timeout_sec: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    """As the delivery engine sends a request: the signed bytes as they are, else form or JSON."""
    async with (
        asyncio.timeout(timeout_sec),
        session.request(
            request.method,
            request.url,
            headers=dict(request.headers),
            data=request.body if request.body is not None else request.form,
            json=request.json if request.body is None else None,
        ) as response,
    ):
        return response.status, dict(response.headers), await response.read()


async def deliver(
    session: aiohttp.ClientSession, type: str, event_type: str, config: Any, **fact_changes: Any
) -> list[Verdict]:
    adapter = ADAPTERS[type]
    requests = adapter.requests(delivery(event_type, type=type), config, facts(**fact_changes))
    return [adapter.judge(*await send(session, r)) for r in requests]


async def test_retailcrm_accepts_a_live_call_and_a_downloaded_one(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeCrm(api_key=API_KEY) as crm:
        config = retailcrm(api_url=crm.url, site="main")
        for event_type in ("dial", "bridge", "hangup"):
            verdicts = await deliver(session, "retailcrm", event_type, config)
            assert all(v.outcome is Outcome.SUCCESS for v in verdicts), verdicts
        downloaded = await deliver(
            session, "retailcrm", "download", config, call_id="cdr-1", data_source="downloaded"
        )
        assert [v.outcome for v in downloaded] == [Outcome.SUCCESS]

        assert crm.count(CALL_EVENT, external_id=CALL_ID) == 3
        assert [r.event_type for r in crm.requests(CALL_EVENT)] == ["in", "in", "hangup"]
        assert crm.count(CALL_EVENT, external_id=CALL_ID, event_type="hangup") == 1
        assert crm.count(CALLS_UPLOAD, external_id=CALL_ID) == 1
        assert crm.count(CALLS_UPLOAD, external_id="cdr-1") == 1
        assert crm.count(CALL_EVENT, external_id="cdr-1") == 0
        hangup = crm.requests(CALL_EVENT, event_type="hangup")[0]
        assert hangup.event is not None and hangup.event["hangupStatus"] == "answered"
        assert hangup.form is not None and hangup.form["site"] == "main"
        assert hangup.idempotency_key == KEY
        (upload,) = crm.requests(CALLS_UPLOAD, external_id=CALL_ID)
        assert upload.calls is not None and upload.calls[0]["date"] == "2026-11-20 09:15:30"
        assert upload.idempotency_key not in (None, KEY)
        assert all(r.status == 200 for r in crm.records)


async def test_retailcrm_reports_a_repeated_upload_as_a_duplicate_and_succeeds(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeCrm(api_key=API_KEY) as crm:
        config = retailcrm(api_url=crm.url)
        (request,) = ADAPTERS["retailcrm"].requests(delivery("download"), config, facts())

        first = await send(session, request)
        again = await send(session, request)

        assert orjson.loads(first[2])["processedCallsCount"] == 1
        assert orjson.loads(again[2]) == {
            "success": True,
            "processedCallsCount": 0,
            "duplicateCalls": [CALL_ID],
        }
        assert ADAPTERS["retailcrm"].judge(*again).outcome is Outcome.SUCCESS


async def test_retailcrm_refuses_a_wrong_key_and_a_malformed_event(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeCrm(api_key=API_KEY) as crm:
        wrong = await deliver(session, "retailcrm", "dial", retailcrm(api_url=crm.url, api_key="x"))
        assert wrong[0].outcome is Outcome.FAIL
        assert wrong[0].error == 'Wrong "apiKey" value.'

        malformed = HttpRequest(
            "POST",
            crm.url + CALL_EVENT,
            headers={"X-API-KEY": API_KEY},
            form={"event": orjson.dumps({"phone": "", "type": "ringing"}).decode()},
        )
        status, headers, body = await send(session, malformed)
        assert status == 400
        assert set(orjson.loads(body)["errors"]) >= {"phone", "type"}
        assert ADAPTERS["retailcrm"].judge(status, headers, body).outcome is Outcome.FAIL


async def test_connection_test_and_manager_lookup(session: aiohttp.ClientSession) -> None:
    async with FakeCrm(api_key=API_KEY, managers={"+79991234567": 18}) as crm:
        config = retailcrm(api_url=crm.url)
        status, _, body = await send(session, credentials_request(config))
        assert judge_credentials(status, body).outcome is Outcome.SUCCESS
        status, _, body = await send(
            session, credentials_request(retailcrm(api_url=crm.url, api_key="bad"))
        )
        assert judge_credentials(status, body).outcome is Outcome.FAIL

        _, _, found = await send(session, manager_request(config, "+79991234567"))
        _, _, unknown = await send(session, manager_request(config, "+70000000000"))
        assert manager_id(found) == 18
        assert extension_of(config, 18) == "151"
        assert manager_id(unknown) is None


async def test_webhook_signature_verifies_at_the_receiver(session: aiohttp.ClientSession) -> None:
    async with FakeCrm(webhook_secret=WEBHOOK_SECRET) as crm:
        good = await deliver(session, "webhook", "hangup", webhook(url=crm.url + "/hooks/a"))
        forged = await deliver(
            session,
            "webhook",
            "hangup",
            webhook(url=crm.url + "/hooks/a", secret="whsec_" + "QUJD" * 8),
        )

        assert good[0].outcome is Outcome.SUCCESS
        assert forged[0].outcome is Outcome.FAIL
        (accepted,) = crm.accepted("/hooks/")
        assert accepted.webhook_id == KEY
        assert accepted.event_type == "call.hangup"
        assert accepted.external_id == CALL_ID


async def test_telegram_and_its_throttling(session: aiohttp.ClientSession) -> None:
    async with FakeCrm(telegram_token=BOT_TOKEN) as crm:
        config = telegram(api_url=crm.url)
        crm.fail("/bot", 429, retry_after=3)

        throttled = await deliver(session, "telegram", "hangup", config)
        sent = await deliver(session, "telegram", "hangup", config)
        wrong_token = await deliver(
            session, "telegram", "hangup", telegram(api_url=crm.url, bot_token="1:other")
        )

        assert (throttled[0].outcome, throttled[0].retry_after_sec) == (Outcome.RETRY, 3.0)
        assert sent[0].outcome is Outcome.SUCCESS
        assert wrong_token[0].outcome is Outcome.FAIL
        (message,) = crm.accepted("/bot")
        assert message.json == {"chat_id": "-100123", "text": message.json["text"]}
        assert "+79991234567" in message.json["text"]


async def test_mediapush(session: aiohttp.ClientSession) -> None:
    async with FakeCrm() as crm:
        adapter = ADAPTERS["mediapush"]
        payload = {"deal_id": "D-1", "master_deal_id": "M-1", "brief": {"budget": 5}}
        (request,) = adapter.requests(
            delivery(MEDIAPLAN_REQUEST, type="mediapush", payload=payload, call_id=None),
            mediapush(url=crm.url, api_key="mp-key-12345678"),
            None,
        )

        assert adapter.judge(*await send(session, request)).outcome is Outcome.SUCCESS
        (recorded,) = crm.requests("/api/mediaplan/request")
        assert recorded.json == payload
        assert recorded.external_id == "D-1"
        assert recorded.headers["authorization"] == "Bearer mp-key-12345678"


async def test_scripted_faults_then_normal_answers(session: aiohttp.ClientSession) -> None:
    async with FakeCrm(api_key=API_KEY) as crm:
        config = retailcrm(api_url=crm.url)
        crm.fail(CALL_EVENT, 503, times=2)
        crm.fail(CALL_EVENT, 429, retry_after=2)

        outcomes = [(await deliver(session, "retailcrm", "dial", config))[0] for _ in range(4)]

        assert [v.outcome for v in outcomes] == [Outcome.RETRY] * 3 + [Outcome.SUCCESS]
        assert outcomes[2].retry_after_sec == 2.0
        assert [r.status for r in crm.requests(CALL_EVENT)] == [503, 503, 429, 200]
        assert crm.count(CALL_EVENT, status=200) == 1


async def test_a_hang_outlasts_the_client_timeout_and_a_slow_path_answers_late(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeCrm(api_key=API_KEY) as crm:
        config = retailcrm(api_url=crm.url)
        (request,) = ADAPTERS["retailcrm"].requests(delivery("dial"), config, facts())
        crm.hang(CALL_EVENT)
        with pytest.raises(TimeoutError):
            await send(session, request, timeout_sec=0.3)

        crm.slow(CALL_EVENT, 0.3)
        started = time.monotonic()
        status, _, _ = await send(session, request)
        assert status == 200
        assert time.monotonic() - started >= 0.3
        crm.slow(CALL_EVENT, None)
        assert crm.count(CALL_EVENT) == 2
    # Closing the fake ends the hung request at once: it never holds the test.


async def test_max_rate_is_measured_at_arrival(session: aiohttp.ClientSession) -> None:
    async with FakeCrm(api_key=API_KEY) as crm:
        config = retailcrm(api_url=crm.url)
        request = dial_request(config)
        await asyncio.gather(*(send(session, request) for _ in range(5)))

        assert crm.max_rate("/api/v5/") == 5
        assert crm.max_rate("/bot") == 0
        await crm.wait_for(5, CALL_EVENT, within_sec=1)


def dial_request(config: Any) -> HttpRequest:
    (request,) = ADAPTERS["retailcrm"].requests(delivery("dial"), config, facts())
    return request


def test_max_in_window() -> None:
    assert max_in_window([]) == 0
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.2, 5.0]) == 4
    assert max_in_window([0.0, 1.0, 2.0]) == 1
    assert max_in_window([0.0, 0.1, 0.2], window_sec=0.15) == 2


def test_a_separate_process_records_to_a_file(tmp_path: Any) -> None:
    record = tmp_path / "requests.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.fake_crm",
            "--record",
            str(record),
            "--api-key",
            API_KEY,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("fake_crm ready on http://127.0.0.1:")
        url = ready.split()[-1]

        async def post() -> None:
            async with aiohttp.ClientSession() as client:
                (request,) = ADAPTERS["retailcrm"].requests(
                    delivery("download"), retailcrm(api_url=url), facts()
                )
                assert (await send(client, request))[0] == 200

        asyncio.run(post())
    finally:
        process.terminate()
        process.wait(timeout=10)

    (line,) = record.read_text().splitlines()
    recorded = orjson.loads(line)
    assert (recorded["path"], recorded["status"]) == (CALLS_UPLOAD, 200)
    assert recorded["external_id"] == CALL_ID
    assert recorded["headers"]["Idempotency-Key"] == KEY
