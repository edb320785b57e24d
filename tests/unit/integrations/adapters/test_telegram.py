"""Telegram: one message per live hangup, the token masked, Telegram's own throttling read."""

from __future__ import annotations

import json

import pytest

from integrations.adapters.base import Outcome
from integrations.adapters.masking import masked_request
from integrations.adapters.telegram import ADAPTER, message
from tests.unit.integrations.adapters.samples import BOT_TOKEN, delivery, facts, telegram


def test_a_live_hangup_sends_one_message() -> None:
    (request,) = ADAPTER.requests(delivery("hangup", type="telegram"), telegram(), facts())

    assert request.method == "POST"
    assert request.url == f"https://api.telegram.org/bot{BOT_TOKEN}/sendMessage"
    assert request.json == {
        "chat_id": "-100123",
        "text": "Incoming call +79991234567, ext 151: answered, 2:18 talk, 0:08 wait",
    }
    assert request.secrets == (BOT_TOKEN,)


def test_the_log_never_holds_the_token() -> None:
    (request,) = ADAPTER.requests(delivery("hangup", type="telegram"), telegram(), facts())
    logged = masked_request(request)

    assert BOT_TOKEN not in json.dumps(logged)
    assert logged["url"] == "https://api.telegram.org/bot****wxyz/sendMessage"


@pytest.mark.parametrize("event_type", ["dial", "bridge", "download"])
def test_only_hangups_are_announced(event_type: str) -> None:
    assert ADAPTER.requests(delivery(event_type, type="telegram"), telegram(), facts()) == ()


def test_a_downloaded_call_is_never_announced() -> None:
    downloaded = facts(data_source="downloaded")

    assert ADAPTER.requests(delivery("hangup", type="telegram"), telegram(), downloaded) == ()


def test_a_missed_outgoing_call() -> None:
    text = message(
        facts(
            call_type="outgoing",
            call_status="no_answer",
            main_extension=None,
            event_extension="150",
            duration_sec=0,
            waiting_sec=None,
        )
    )

    assert text == "Outgoing call +79991234567, ext 150: not answered"


def test_judge_reads_ok_and_retry_after() -> None:
    ok = ADAPTER.judge(200, {}, b'{"ok": true, "result": {"message_id": 1}}')
    throttled = ADAPTER.judge(
        429,
        {},
        b'{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 5",'
        b' "parameters": {"retry_after": 5}}',
    )
    refused = ADAPTER.judge(
        403, {}, b'{"ok": false, "error_code": 403, "description": "Forbidden: bot was kicked"}'
    )
    odd = ADAPTER.judge(200, {}, b'{"ok": false}')

    assert ok.outcome is Outcome.SUCCESS
    assert (throttled.outcome, throttled.retry_after_sec) == (Outcome.RETRY, 5.0)
    assert (refused.outcome, refused.error) == (Outcome.FAIL, "Forbidden: bot was kicked")
    assert odd.outcome is Outcome.FAIL
    assert ADAPTER.judge(502, {}, b"Bad Gateway").outcome is Outcome.RETRY
