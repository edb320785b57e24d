"""RetailCRM API v5 (contract section 8): a call event opens, then closes, the manager's call
card, and a finished call goes to the customer's history.

    dial, bridge  POST {api_url}/api/v5/telephony/call/event    event=<json>
    hangup        POST {api_url}/api/v5/telephony/call/event    event=<json, type hangup>
                  POST {api_url}/api/v5/telephony/calls/upload  calls=<json array of one>
    download      POST {api_url}/api/v5/telephony/calls/upload  (a CDR call: no live card)

Form-encoded, header `X-API-KEY`, plus `site` as a form field when configured. Field names are
RetailCRM's documented ones (API v5 reference, methods `telephony/call/event` and
`telephony/calls/upload`; the same names as the official client's `CallEvent` and `Call`
models):
  event: phone, type (in | out | hangup), codes[], userIds[], callExternalId, externalPhone,
         site, hangupStatus (answered | busy | cancel | failed | no answered).
  calls[]: date ("Y-m-d H:i:s"), type (in | out), phone, code, userId, result (answered | busy |
         failed | no answered | not allowed | unknown), duration, durationWaiting, externalId,
         externalPhone, site.
A success is a 2xx answer with `"success": true`; RetailCRM reports errors as
`{"success": false, "errorMsg": ..., "errors": {...}}`.

Choices the contract leaves open:
- Internal calls (extension to extension) are not sent: RetailCRM's telephony records calls with
  a customer's phone (types in/out only), and an internal call has none.
- A call without the customer's phone number is not sent either: `phone` is required.
- `cancel` (the caller hung up before an answer) is never sent: the call facts do not say who
  hung up, so an unanswered call is "no answered".
- `date` is the call's start in UTC: the config has no time zone (RetailCRM takes the account's
  zone for a date without one; set the account to UTC, or add a zone key to the config).
- `externalPhone` (the number the customer dialled) is the trunk when the trunk is a phone
  number; a named trunk ("0367-mts") is not one.
- A hangup's two requests carry distinct idempotency keys (the delivery's, then one derived
  from it): a CRM that honours the header must not take the upload for a repeat of the event.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson

from integrations.adapters import answers
from integrations.adapters.base import (
    CallFacts,
    Delivery,
    HttpRequest,
    Outcome,
    Verdict,
    join_url,
)
from integrations.config.models import RetailCrmConfig

CALL_EVENT_PATH = "/api/v5/telephony/call/event"
CALLS_UPLOAD_PATH = "/api/v5/telephony/calls/upload"
CREDENTIALS_PATH = "/api/credentials"
CUSTOMERS_PATH = "/api/v5/customers"

DIRECTIONS = {"incoming": "in", "outgoing": "out"}
HANGUP_STATUSES = {
    "answered": "answered",
    "busy": "busy",
    "no_answer": "no answered",
    "failed": "failed",
}
# calls/upload's `result` for a call whose status is not known.
UNKNOWN_RESULT = "unknown"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
_PHONE = re.compile(r"^\+?\d{5,20}$")


class RetailCrmAdapter:
    type = "retailcrm"

    def requests(
        self, delivery: Delivery, config: Any, facts: CallFacts | None
    ) -> Sequence[HttpRequest]:
        cfg = _retailcrm(config)
        if facts is None or facts.call_type not in DIRECTIONS or not facts.phone_number:
            return ()
        event = delivery.event_type
        if event in ("dial", "bridge"):
            return _call_card(cfg, delivery, facts, hangup=False)
        if event == "hangup":
            return (
                *_call_card(cfg, delivery, facts, hangup=True),
                _calls_upload(cfg, delivery, facts, step=1),
            )
        if event == "download":
            return (_calls_upload(cfg, delivery, facts, step=0),)
        return ()

    def judge(self, status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
        return judge(status, headers, body)


def judge(status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
    doc = answers.json_of(body)
    verdict = answers.by_status(status, headers, _error_of(doc, body))
    if verdict.outcome is not Outcome.SUCCESS:
        return verdict
    if isinstance(doc, dict) and doc.get("success") is True:
        return verdict
    # A 2xx that is not RetailCRM's success is a proxy or another service at that URL: the same
    # request would get the same answer.
    return Verdict(Outcome.FAIL, error=_error_of(doc, body) or f"HTTP {status} without success")


# -- the connection test and the smart redirect ---------------------------------------------


def credentials_request(config: RetailCrmConfig) -> HttpRequest:
    """The key's rights (`GET /api/credentials`): the connection test."""
    return HttpRequest(
        "GET",
        join_url(config.api_url, CREDENTIALS_PATH),
        headers={"X-API-KEY": config.api_key},
        secrets=(config.api_key,),
    )


def judge_credentials(status: int, body: bytes) -> Verdict:
    return judge(status, {}, body)


def manager_request(config: RetailCrmConfig, phone: str) -> HttpRequest:
    """The customers whose name or phone matches `phone` (RetailCRM's `filter[name]` searches
    both)."""
    query = {"filter[name]": phone}
    if config.site:
        query["site"] = config.site
    return HttpRequest(
        "GET",
        join_url(config.api_url, CUSTOMERS_PATH) + "?" + urlencode(query),
        headers={"X-API-KEY": config.api_key},
        secrets=(config.api_key,),
    )


def manager_id(body: bytes) -> int | None:
    """The `managerId` of the first customer found that has one."""
    doc = answers.json_of(body)
    if not isinstance(doc, dict) or doc.get("success") is not True:
        return None
    customers = doc.get("customers")
    if not isinstance(customers, list):
        return None
    for customer in customers:
        if isinstance(customer, dict):
            found = customer.get("managerId")
            if isinstance(found, int) and not isinstance(found, bool):
                return found
    return None


def extension_of(config: RetailCrmConfig, user_id: int) -> str | None:
    """The extension mapped to a RetailCRM user; of several, the lowest, so it never varies."""
    mapped = sorted(ext for ext, user in config.user_mappings.items() if user == user_id)
    return mapped[0] if mapped else None


# -- the requests ---------------------------------------------------------------------------


def _call_card(
    config: RetailCrmConfig, delivery: Delivery, facts: CallFacts, *, hangup: bool
) -> tuple[HttpRequest, ...]:
    """The call card's event; none when no extension took part: RetailCRM answers "Either
    codes or userIds should be specified", as there is no manager whose card it would be (a
    call that failed before ringing anyone still goes to the history)."""
    code = _code(facts, hangup=hangup)
    if code is None:
        return ()
    return (_call_event(config, delivery, facts, code, hangup=hangup),)


def _call_event(
    config: RetailCrmConfig, delivery: Delivery, facts: CallFacts, code: str, *, hangup: bool
) -> HttpRequest:
    event: dict[str, Any] = {
        "phone": facts.phone_number,
        "type": "hangup" if hangup else DIRECTIONS[facts.call_type],
        "codes": [code],
        "userIds": _user_ids(config, [code]),
        "callExternalId": facts.call_id,
    }
    if hangup:
        event["hangupStatus"] = _status(facts)
    _add_optional(event, config, facts)
    return _post(config, CALL_EVENT_PATH, "event", event, delivery, step=0)


def _calls_upload(
    config: RetailCrmConfig, delivery: Delivery, facts: CallFacts, *, step: int
) -> HttpRequest:
    code = _code(facts, hangup=True)
    call: dict[str, Any] = {
        "date": _date(facts.start_time or facts.event_at),
        "type": DIRECTIONS[facts.call_type],
        "phone": facts.phone_number,
        "code": code,
        "result": _status(facts) if facts.call_status or facts.end_time else UNKNOWN_RESULT,
        "duration": facts.duration_sec or 0,
        "externalId": facts.call_id,
    }
    if code is None:
        del call["code"]
    user_ids = _user_ids(config, [code] if code else [])
    if user_ids:
        call["userId"] = user_ids[0]
    if facts.waiting_sec is not None:
        call["durationWaiting"] = facts.waiting_sec
    _add_optional(call, config, facts)
    return _post(config, CALLS_UPLOAD_PATH, "calls", [call], delivery, step=step)


def _post(
    config: RetailCrmConfig, path: str, field: str, value: Any, delivery: Delivery, *, step: int
) -> HttpRequest:
    form = {field: orjson.dumps(value).decode()}
    if config.site:
        form["site"] = config.site
    return HttpRequest(
        "POST",
        join_url(config.api_url, path),
        headers={"X-API-KEY": config.api_key, "Idempotency-Key": step_key(delivery, step)},
        form=form,
        secrets=(config.api_key,),
    )


def step_key(delivery: Delivery, step: int) -> str:
    """The Idempotency-Key of a delivery's request `step`: the delivery's own for the first, one
    derived from it (the same on every attempt) for the next."""
    if step == 0:
        return delivery.idempotency_key
    try:
        return str(uuid.uuid5(uuid.UUID(delivery.idempotency_key), f"step-{step}"))
    except ValueError:
        return f"{delivery.idempotency_key}-{step}"


def _code(facts: CallFacts, *, hangup: bool) -> str | None:
    """The extension the event is about: a dial's or bridge's own participant; at the hangup,
    the one that answered (else the event's, else the first rung)."""
    candidates: list[str | None] = (
        [facts.main_extension, facts.event_extension] if hangup else [facts.event_extension]
    )
    for extension in [*candidates, *facts.extensions[:1]]:
        if extension:
            return extension
    return None


def _status(facts: CallFacts) -> str:
    """The call's end in RetailCRM's words; a hangup without a status answered if it has an
    answer time."""
    if facts.call_status in HANGUP_STATUSES:
        return HANGUP_STATUSES[facts.call_status]
    return "answered" if facts.answer_time is not None else "no answered"


def _user_ids(config: RetailCrmConfig, codes: list[str]) -> list[int]:
    return [config.user_mappings[c] for c in codes if c in config.user_mappings]


def _add_optional(target: dict[str, Any], config: RetailCrmConfig, facts: CallFacts) -> None:
    if facts.trunk and _PHONE.match(facts.trunk):
        target["externalPhone"] = facts.trunk
    if config.site:
        target["site"] = config.site


def _date(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(DATE_FORMAT)


def _error_of(doc: Any, body: bytes) -> str | None:
    if isinstance(doc, dict):
        message = doc.get("errorMsg")
        errors = doc.get("errors")
        if message or errors:
            text = str(message or "")
            if errors:
                text = f"{text} {orjson.dumps(errors).decode()}".strip()
            return answers.short(text)
    return answers.body_text(body) or None


def _retailcrm(config: Any) -> RetailCrmConfig:
    if not isinstance(config, RetailCrmConfig):
        raise TypeError(f"a RetailCRM delivery needs a RetailCrmConfig, not {type(config)}")
    return config


ADAPTER = RetailCrmAdapter()
