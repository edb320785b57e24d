"""RetailCRM: contract section 8's mapping, field by field, and RetailCRM's success rule."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from integrations.adapters.base import HttpRequest, Outcome
from integrations.adapters.retailcrm import (
    ADAPTER,
    credentials_request,
    extension_of,
    judge_credentials,
    manager_id,
    manager_request,
    step_key,
)
from tests.unit.integrations.adapters.samples import (
    API_KEY,
    KEY,
    delivery,
    facts,
    retailcrm,
)

EVENT_URL = "https://shop.retailcrm.ru/api/v5/telephony/call/event"
UPLOAD_URL = "https://shop.retailcrm.ru/api/v5/telephony/calls/upload"


def field(request: HttpRequest, name: str) -> Any:
    assert request.form is not None
    return orjson.loads(request.form[name])


def test_dial_opens_the_card_of_the_rung_extension() -> None:
    (request,) = ADAPTER.requests(delivery("dial"), retailcrm(), facts(event_extension="150"))

    assert request.method == "POST"
    assert request.url == EVENT_URL
    assert request.headers == {"X-API-KEY": API_KEY, "Idempotency-Key": KEY}
    assert request.json is None
    assert request.form is not None and set(request.form) == {"event"}
    assert field(request, "event") == {
        "phone": "+79991234567",
        "type": "in",
        "codes": ["150"],
        "userIds": [16],
        "callExternalId": "1749033047.6528",
    }
    assert API_KEY in request.secrets


def test_bridge_of_an_outgoing_call_is_out() -> None:
    (request,) = ADAPTER.requests(
        delivery("bridge"), retailcrm(), facts(call_type="outgoing", event_extension="151")
    )

    event = field(request, "event")
    assert isinstance(event, dict)
    assert event["type"] == "out" and event["codes"] == ["151"] and event["userIds"] == [18]


def test_an_unmapped_extension_sends_its_code_without_user_ids() -> None:
    (request,) = ADAPTER.requests(delivery("dial"), retailcrm(), facts(event_extension="777"))

    event = field(request, "event")
    assert isinstance(event, dict)
    assert event["codes"] == ["777"] and event["userIds"] == []


def test_hangup_closes_the_card_then_uploads_the_call() -> None:
    event, upload = ADAPTER.requests(delivery("hangup"), retailcrm(), facts())

    assert event.url == EVENT_URL
    assert field(event, "event") == {
        "phone": "+79991234567",
        "type": "hangup",
        "codes": ["151"],
        "userIds": [18],
        "callExternalId": "1749033047.6528",
        "hangupStatus": "answered",
    }
    assert upload.url == UPLOAD_URL
    assert upload.form is not None and set(upload.form) == {"calls"}
    assert field(upload, "calls") == [
        {
            "date": "2026-11-20 09:15:30",
            "type": "in",
            "phone": "+79991234567",
            "code": "151",
            "userId": 18,
            "result": "answered",
            "duration": 138,
            "durationWaiting": 8,
            "externalId": "1749033047.6528",
        }
    ]
    # Two requests, two keys: a CRM honouring the header must not drop the upload as a repeat.
    assert event.headers["Idempotency-Key"] == KEY
    assert upload.headers["Idempotency-Key"] == step_key(delivery(), 1) != KEY
    assert upload.headers["X-API-KEY"] == API_KEY


def test_the_upload_key_is_the_same_on_every_attempt() -> None:
    first = ADAPTER.requests(delivery("hangup", attempt=1), retailcrm(), facts())
    again = ADAPTER.requests(delivery("hangup", attempt=4, steps_done=1), retailcrm(), facts())

    assert [r.headers for r in first] == [r.headers for r in again]


@pytest.mark.parametrize(
    ("call_status", "expected"),
    [
        ("answered", "answered"),
        ("busy", "busy"),
        ("no_answer", "no answered"),
        ("failed", "failed"),
    ],
)
def test_hangup_status(call_status: str, expected: str) -> None:
    event, upload = ADAPTER.requests(
        delivery("hangup"), retailcrm(), facts(call_status=call_status)
    )

    hangup = field(event, "event")
    calls = field(upload, "calls")
    assert isinstance(hangup, dict) and isinstance(calls, list)
    assert hangup["hangupStatus"] == expected
    assert calls[0]["result"] == expected


def test_an_unanswered_call_has_no_wait_and_no_user_when_nobody_is_mapped() -> None:
    _, upload = ADAPTER.requests(
        delivery("hangup"),
        retailcrm(user_mappings={}),
        facts(
            call_status="no_answer",
            main_extension=None,
            answer_time=None,
            waiting_sec=None,
            duration_sec=0,
            event_extension="150",
        ),
    )

    (call,) = field(upload, "calls")
    assert call["result"] == "no answered"
    assert call["code"] == "150"
    assert "userId" not in call and "durationWaiting" not in call
    assert call["duration"] == 0


def test_download_uploads_only_with_the_delivery_key() -> None:
    (upload,) = ADAPTER.requests(delivery("download"), retailcrm(), facts(data_source="downloaded"))

    assert upload.url == UPLOAD_URL
    assert upload.headers["Idempotency-Key"] == KEY


def test_site_goes_in_the_form_and_in_each_document() -> None:
    event, upload = ADAPTER.requests(delivery("hangup"), retailcrm(site="main-shop"), facts())

    assert event.form is not None and event.form["site"] == "main-shop"
    assert upload.form is not None and upload.form["site"] == "main-shop"
    hangup = field(event, "event")
    calls = field(upload, "calls")
    assert isinstance(hangup, dict) and isinstance(calls, list)
    assert hangup["site"] == "main-shop" and calls[0]["site"] == "main-shop"


def test_a_trunk_that_is_a_number_is_the_external_phone() -> None:
    (request,) = ADAPTER.requests(delivery("dial"), retailcrm(), facts(trunk="+74951234567"))

    event = field(request, "event")
    assert isinstance(event, dict) and event["externalPhone"] == "+74951234567"


def test_the_date_is_utc() -> None:
    from datetime import timedelta, timezone

    moscow = timezone(timedelta(hours=3))
    (upload,) = ADAPTER.requests(
        delivery("download"),
        retailcrm(),
        facts(start_time=facts().start_time.astimezone(moscow)),  # type: ignore[union-attr]
    )

    (call,) = field(upload, "calls")
    assert call["date"] == "2026-11-20 09:15:30"


@pytest.mark.parametrize("event_type", ["dial", "bridge", "hangup", "download"])
def test_internal_calls_and_calls_without_a_phone_send_nothing(event_type: str) -> None:
    assert ADAPTER.requests(delivery(event_type), retailcrm(), facts(call_type="internal")) == ()
    assert ADAPTER.requests(delivery(event_type), retailcrm(), facts(phone_number=None)) == ()
    assert ADAPTER.requests(delivery(event_type), retailcrm(), None) == ()


def test_a_trailing_slash_in_the_api_url_is_not_doubled() -> None:
    (request,) = ADAPTER.requests(
        delivery("dial"), retailcrm(api_url="https://shop.retailcrm.ru/"), facts()
    )

    assert request.url == EVENT_URL


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, b'{"success": true}', Outcome.SUCCESS),
        (
            201,
            b'{"success": true, "processedCallsCount": 1, "duplicateCalls": []}',
            Outcome.SUCCESS,
        ),
        (200, b'{"success": false, "errorMsg": "nope"}', Outcome.FAIL),
        (200, b"<html>maintenance</html>", Outcome.FAIL),
        (
            400,
            b'{"success": false, "errorMsg": "Errors", "errors": {"phone": "blank"}}',
            Outcome.FAIL,
        ),
        (403, b'{"success": false, "errorMsg": "Wrong \\"apiKey\\" value."}', Outcome.FAIL),
        (404, b"", Outcome.FAIL),
        (429, b'{"success": false}', Outcome.RETRY),
        (500, b"", Outcome.RETRY),
        (503, b"Service Unavailable", Outcome.RETRY),
    ],
)
def test_judge(status: int, body: bytes, outcome: Outcome) -> None:
    assert ADAPTER.judge(status, {}, body).outcome is outcome


def test_judge_keeps_retailcrms_error_and_retry_after() -> None:
    failed = ADAPTER.judge(
        400, {}, b'{"success": false, "errorMsg": "Errors", "errors": {"phone": "blank"}}'
    )
    throttled = ADAPTER.judge(429, {"retry-after": "7"}, b'{"success": false}')

    assert failed.error == 'Errors {"phone":"blank"}'
    assert throttled.retry_after_sec == 7.0


def test_credentials() -> None:
    request = credentials_request(retailcrm())

    assert (request.method, request.url) == ("GET", "https://shop.retailcrm.ru/api/credentials")
    assert request.headers == {"X-API-KEY": API_KEY}
    assert request.secrets == (API_KEY,)
    assert (
        judge_credentials(200, b'{"success": true, "credentials": []}').outcome is Outcome.SUCCESS
    )
    refused = judge_credentials(403, b'{"success": false, "errorMsg": "Wrong \\"apiKey\\" value."}')
    assert refused.outcome is Outcome.FAIL and refused.error == 'Wrong "apiKey" value.'


def test_manager_lookup() -> None:
    request = manager_request(retailcrm(), "+79991234567")
    url = urlsplit(request.url)

    assert request.method == "GET"
    assert (url.scheme, url.netloc, url.path) == ("https", "shop.retailcrm.ru", "/api/v5/customers")
    assert parse_qs(url.query) == {"filter[name]": ["+79991234567"]}
    assert request.headers == {"X-API-KEY": API_KEY}

    found = b'{"success": true, "customers": [{"id": 1}, {"id": 2, "managerId": 18}]}'
    assert manager_id(found) == 18
    assert manager_id(b'{"success": true, "customers": []}') is None
    assert manager_id(b'{"success": false, "errorMsg": "x"}') is None
    assert manager_id(b"not json") is None
    assert manager_id(b'{"success": true, "customers": [{"managerId": true}]}') is None


def test_extension_of() -> None:
    config = retailcrm(user_mappings={"152": 18, "151": 18, "150": 16})

    assert extension_of(config, 18) == "151"
    assert extension_of(config, 16) == "150"
    assert extension_of(config, 99) is None


def test_a_call_no_extension_took_part_in_goes_to_the_history_without_a_card() -> None:
    nobody = facts(event_extension=None, extensions=(), main_extension=None, call_status="failed")
    assert ADAPTER.requests(delivery("dial"), retailcrm(), nobody) == ()
    (upload,) = ADAPTER.requests(delivery("hangup"), retailcrm(), nobody)
    assert upload.url == UPLOAD_URL
    (call,) = field(upload, "calls")
    assert call["result"] == "failed" and "code" not in call and "userId" not in call
    assert upload.headers["Idempotency-Key"] == step_key(delivery("hangup"), 1)
