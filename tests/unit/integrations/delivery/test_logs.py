"""What a log row keeps of a request and its answer: everything but the secrets' bodies."""

from __future__ import annotations

import orjson

from integrations.adapters.base import HttpRequest
from integrations.delivery.logs import MAX_LOGGED_BODY_CHARS, request_document, response_document
from integrations.delivery.sending import Exchange

KEY = "rcrm-api-key-0123456789"
TOKEN = "123456:bot-token-abcdefgh"


def test_secrets_are_masked_in_url_headers_form_and_json() -> None:
    request = HttpRequest(
        "POST",
        f"https://api.telegram.org/bot{TOKEN}/sendMessage?key={KEY}",
        headers={"X-API-KEY": KEY, "Authorization": "Bearer whatever-1234", "Other": KEY},
        form={"event": orjson.dumps({"note": KEY}).decode()},
        secrets=(TOKEN,),
    )
    document = request_document(request, [KEY], step=2, steps=2)
    text = orjson.dumps(document).decode()
    assert KEY not in text and TOKEN not in text and "whatever" not in text
    assert "****6789" in text and "****efgh" in text
    assert document["step"] == "2/2"
    as_json = request_document(
        HttpRequest("POST", "http://x/", json={"token": TOKEN}), [TOKEN], step=1, steps=1
    )
    assert as_json["json"] == {"token": "****efgh"}
    assert "step" not in as_json


def test_an_answer_is_kept_as_json_or_as_the_start_of_its_text() -> None:
    small = Exchange(0.01, 503, {"Retry-After": "2"}, b'{"errorMsg": "echo ' + KEY.encode() + b'"}')
    assert response_document(small, [KEY]) == {
        "status": 503,
        "body": {"errorMsg": "echo ****6789"},
        "retry_after": "2",
    }
    big = Exchange(0.01, 200, {}, b"x" * (MAX_LOGGED_BODY_CHARS * 3))
    logged = response_document(big, [])
    assert logged is not None and len(logged["body"]) == MAX_LOGGED_BODY_CHARS
    assert response_document(Exchange(3.0, error="timeout after 3 s"), []) is None
