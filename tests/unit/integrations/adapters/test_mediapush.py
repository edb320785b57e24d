"""MediaPush: the deal's media-plan request."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.adapters.base import MEDIAPLAN_REQUEST, Delivery, Outcome
from integrations.adapters.masking import masked_request
from integrations.adapters.mediapush import ADAPTER
from tests.unit.integrations.adapters.samples import KEY, delivery, mediapush

PAYLOAD = {
    "deal_id": "D-1",
    "master_deal_id": "M-1",
    "brief": {"budget": 1000, "channels": ["tv"]},
    "correlation_id": "corr-1",
}


def mediaplan(**changes: Any) -> Delivery:
    fields: dict[str, Any] = {"call_id": None, "deal_id": "D-1", "payload": PAYLOAD}
    return delivery(MEDIAPLAN_REQUEST, type="mediapush", **(fields | changes))


def test_the_request() -> None:
    (request,) = ADAPTER.requests(mediaplan(), mediapush(api_key="mp-key-12345678"), None)

    assert (request.method, request.url) == (
        "POST",
        "https://mediapush.example.com/api/mediaplan/request",
    )
    assert request.json == PAYLOAD
    assert request.headers == {
        "Idempotency-Key": KEY,
        "Authorization": "Bearer mp-key-12345678",
    }
    assert masked_request(request)["headers"]["Authorization"] == "****5678"


def test_without_a_key_there_is_no_authorization() -> None:
    (request,) = ADAPTER.requests(mediaplan(), mediapush(), None)

    assert request.headers == {"Idempotency-Key": KEY}
    assert request.secrets == ()


def test_nothing_but_a_media_plan_request_is_sent() -> None:
    assert ADAPTER.requests(delivery("hangup", type="mediapush"), mediapush(), None) == ()
    assert ADAPTER.requests(mediaplan(payload=None), mediapush(), None) == ()


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(202, Outcome.SUCCESS), (409, Outcome.FAIL), (429, Outcome.RETRY), (503, Outcome.RETRY)],
)
def test_judge(status: int, outcome: Outcome) -> None:
    assert ADAPTER.judge(status, {}, b"").outcome is outcome
