"""Webhook: the JSON document, and a signature that Standard Webhooks' own verifier accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from integrations.adapters.base import Outcome
from integrations.adapters.masking import masked_request
from integrations.adapters.webhook import ADAPTER, WebhookAdapter
from tests.unit.integrations.adapters.samples import KEY, WEBHOOK_SECRET, delivery, facts, webhook

SIGNED_AT = datetime(2026, 11, 20, 9, 18, tzinfo=UTC)


def test_the_document() -> None:
    (request,) = ADAPTER.requests(delivery("hangup", type="webhook"), webhook(), facts())

    assert (request.method, request.url) == ("POST", "https://hooks.example.com/calls")
    assert request.form is None
    assert request.json == {
        "type": "call.hangup",
        "timestamp": "2026-11-20T09:17:56Z",
        "data": {
            "enterprise_id": "0367",
            "call_id": "1749033047.6528",
            "event_type": "hangup",
            "call_type": "incoming",
            "data_source": "live",
            "extension": "151",
            "phone_number": "+79991234567",
            "trunk": "0367-mts",
            "extensions": ["150", "151"],
            "main_extension": "151",
            "call_status": "answered",
            "start_time": "2026-11-20T09:15:30Z",
            "answer_time": "2026-11-20T09:15:38Z",
            "end_time": "2026-11-20T09:17:56Z",
            "duration_sec": 138,
            "waiting_sec": 8,
            "asterisk_host": "pbx1",
        },
    }
    # The bytes sent are the JSON aiohttp would send for `json=`.
    assert request.body == json.dumps(request.json).encode()


def test_the_signature_verifies_with_standard_webhooks() -> None:
    adapter = WebhookAdapter(clock=lambda: datetime.now(UTC))
    (request,) = adapter.requests(delivery("dial", type="webhook"), webhook(), facts())

    assert request.body is not None
    assert request.headers["webhook-id"] == KEY
    verified = Webhook(WEBHOOK_SECRET).verify(request.body, dict(request.headers))
    assert verified == request.json
    assert verified["type"] == "call.dial"


def test_a_tampered_body_or_another_secret_does_not_verify() -> None:
    (request,) = ADAPTER.requests(delivery("dial", type="webhook"), webhook(), facts())
    assert request.body is not None

    with pytest.raises(WebhookVerificationError):
        Webhook(WEBHOOK_SECRET).verify(request.body.replace(b"151", b"152"), dict(request.headers))
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(request.body, dict(request.headers))


def test_the_timestamp_header_is_the_signing_time() -> None:
    adapter = WebhookAdapter(clock=lambda: SIGNED_AT)
    (request,) = adapter.requests(delivery("bridge", type="webhook"), webhook(), facts())

    assert request.headers["webhook-timestamp"] == str(int(SIGNED_AT.timestamp()))
    assert request.headers["webhook-signature"] == Webhook(WEBHOOK_SECRET).sign(
        KEY, SIGNED_AT, request.body or b""
    )


def test_a_secret_without_the_prefix_signs_as_the_library_reads_it() -> None:
    (request,) = ADAPTER.requests(
        delivery("dial", type="webhook"), webhook(secret="plain secret!"), facts()
    )

    assert request.body is not None
    Webhook("plain secret!").verify(request.body, dict(request.headers))


def test_downloaded_and_internal_calls_are_sent() -> None:
    downloaded = ADAPTER.requests(
        delivery("download", type="webhook"), webhook(), facts(data_source="downloaded")
    )
    internal = ADAPTER.requests(
        delivery("hangup", type="webhook"), webhook(), facts(call_type="internal")
    )

    assert len(downloaded) == 1 and len(internal) == 1
    assert ADAPTER.requests(delivery("hangup", type="webhook"), webhook(), None) == ()


def test_the_log_masks_the_secret_and_the_signature() -> None:
    (request,) = ADAPTER.requests(delivery("dial", type="webhook"), webhook(), facts())
    logged = json.dumps(masked_request(request))

    assert WEBHOOK_SECRET not in logged
    assert request.headers["webhook-signature"] not in logged
    assert request.headers["webhook-signature"][3:] not in logged


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SUCCESS),
        (204, Outcome.SUCCESS),
        (410, Outcome.FAIL),
        (429, Outcome.RETRY),
        (502, Outcome.RETRY),
    ],
)
def test_judge(status: int, outcome: Outcome) -> None:
    assert ADAPTER.judge(status, {}, b"").outcome is outcome
