"""A fake CRM for the integration tests: a real aiohttp server on 127.0.0.1 that answers as
RetailCRM API v5, the Telegram Bot API, a Standard Webhooks receiver and MediaPush do, records
every request it receives, and misbehaves on demand (503, 429 with Retry-After, slow answers, a
hang longer than any client timeout).

    async with FakeCrm(api_key="key-1234", managers={"+79990001122": 16}) as crm:
        ... point a config's api_url at crm.url ...
        crm.fail("/api/v5/telephony/call/event", 503, times=2)
        await crm.wait_for(2, "/api/v5/telephony/calls/upload")
        assert crm.count("/api/v5/telephony/call/event", external_id="c1", event_type="hangup") == 1
        assert crm.max_rate("/api/v5/") <= 10

From another process (an end-to-end test): `python -m tests.support.fake_crm --port P
--record requests.jsonl` prints `fake_crm ready on http://127.0.0.1:P` once it listens, and
appends one JSON line per request (see `Recorded.as_json`) to the file until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import sys
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# RetailCRM's endpoints (API v5) and the other systems' ones, as the adapters call them.
CREDENTIALS = "/api/credentials"
CALL_EVENT = "/api/v5/telephony/call/event"
CALLS_UPLOAD = "/api/v5/telephony/calls/upload"
CUSTOMERS = "/api/v5/customers"
MEDIAPLAN = "/api/mediaplan/request"
TELEGRAM_PREFIX = "/bot"
WEBHOOK_PREFIX = "/hooks/"

_RETAILCRM_DATE = "%Y-%m-%d %H:%M:%S"
_CALL_EVENT_TYPES = {"in", "out", "hangup"}
_HANGUP_STATUSES = {"answered", "busy", "cancel", "failed", "no answered"}
_UPLOAD_TYPES = {"in", "out"}
# Longer than any `timeout_sec` a config accepts (at most 60 s): the client gives up first.
HANG_SEC = 120.0


@dataclass(frozen=True, slots=True)
class Answer:
    """One scripted answer: `status` (and `body`, JSON, else the endpoint's own error shape),
    after `delay_sec`; `retry_after` adds the header (Telegram: its `parameters.retry_after`)."""

    status: int = 503
    delay_sec: float = 0.0
    retry_after: float | None = None
    body: Any = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as it arrived (`at` is time.monotonic() on arrival) and the status it got
    (None: not answered yet, e.g. hanging). `headers` are case-insensitive."""

    at: float
    wall: float
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    form: Mapping[str, str] | None
    json: Any
    status: int | None = None

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")

    @property
    def event(self) -> dict[str, Any] | None:
        """RetailCRM call/event's `event` field, decoded."""
        value = _json_field(self.form, "event")
        return value if isinstance(value, dict) else None

    @property
    def calls(self) -> list[dict[str, Any]] | None:
        """RetailCRM calls/upload's `calls` field, decoded."""
        value = _json_field(self.form, "calls")
        return value if isinstance(value, list) else None

    @property
    def external_id(self) -> str | None:
        """The call this request is about, whichever system it is addressed to."""
        event = self.event
        if isinstance(event, dict) and "callExternalId" in event:
            return str(event["callExternalId"])
        calls = self.calls
        if isinstance(calls, list) and calls and isinstance(calls[0], dict):
            value = calls[0].get("externalId")
            return None if value is None else str(value)
        if isinstance(self.json, dict):
            data = self.json.get("data")
            if isinstance(data, dict) and data.get("call_id") is not None:
                return str(data["call_id"])
            for key in ("call_id", "deal_id"):
                if self.json.get(key) is not None:
                    return str(self.json[key])
        return None

    @property
    def event_type(self) -> str | None:
        """call/event: the event's `type` (in, out, hangup); calls/upload: "upload"; a webhook:
        its `type` (call.dial ...); otherwise None."""
        event = self.event
        if isinstance(event, dict):
            return str(event.get("type"))
        if self.path == CALLS_UPLOAD:
            return "upload"
        if isinstance(self.json, dict) and isinstance(self.json.get("type"), str):
            return str(self.json["type"])
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "wall": self.wall,
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "headers": {str(k): v for k, v in self.headers.items()},
            "form": None if self.form is None else dict(self.form),
            "json": self.json,
            "status": self.status,
            "external_id": self.external_id,
            "event_type": self.event_type,
        }


def _json_field(form: Mapping[str, str] | None, name: str) -> Any:
    if form is None or name not in form:
        return None
    try:
        return orjson.loads(form[name])
    except orjson.JSONDecodeError:
        return None


class FakeCrm:
    """RetailCRM, Telegram, webhook and MediaPush endpoints on one 127.0.0.1 port.

    `api_key`: the RetailCRM key it accepts (None: any); `telegram_token`: the bot token it
    accepts (None: any); `webhook_secret`: when set, webhooks with a bad Standard Webhooks
    signature answer 401; `managers`: phone -> RetailCRM managerId for the customers lookup.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        api_key: str | None = None,
        telegram_token: str | None = None,
        webhook_secret: str | None = None,
        managers: Mapping[str, int] | None = None,
        on_record: Callable[[Recorded], None] | None = None,
    ) -> None:
        self.api_key = api_key
        self.telegram_token = telegram_token
        self.webhook_secret = webhook_secret
        self.managers: dict[str, int] = dict(managers or {})
        self.records: list[Recorded] = []
        self._port = port
        self._on_record = on_record
        self._scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self._slow: dict[str, float] = {}
        self._uploaded: set[str] = set()
        self._ids = itertools.count(1)
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> FakeCrm:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # Short: a hung handler is cut when the fake closes, never holds the test.
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        self.url = f"http://127.0.0.1:{self._port}"
        return self

    async def close(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeCrm:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def port(self) -> int:
        return self._port

    @property
    def open_connections(self) -> int:
        """Client connections still held: a dead client's go once every request it had sent
        has been read and handled (aiohttp keeps a lost connection until its handler ends)."""
        server = self._runner.server if self._runner is not None else None
        return len(server.connections) if server is not None else 0

    # -- fault injection --------------------------------------------------------------------

    def script(self, path_prefix: str, *answers: Answer) -> None:
        """The next requests to a path starting with `path_prefix` get these answers, in
        order; then the endpoint answers normally again."""
        self._scripts[path_prefix].extend(answers)

    def fail(
        self,
        path_prefix: str,
        status: int = 503,
        *,
        times: int = 1,
        retry_after: float | None = None,
        delay_sec: float = 0.0,
    ) -> None:
        self.script(path_prefix, *[Answer(status, delay_sec, retry_after)] * times)

    def hang(self, path_prefix: str, *, times: int = 1) -> None:
        """The next `times` requests get no answer before the client's timeout."""
        self.script(path_prefix, *[Answer(200, HANG_SEC)] * times)

    def slow(self, path_prefix: str, delay_sec: float | None) -> None:
        """Every answer to the path is late by `delay_sec` until `slow(path_prefix, None)`."""
        if delay_sec is None:
            self._slow.pop(path_prefix, None)
        else:
            self._slow[path_prefix] = delay_sec

    def reset_faults(self) -> None:
        self._scripts.clear()
        self._slow.clear()

    def clear(self) -> None:
        """Forgets the recorded requests (and the uploaded calls RetailCRM reports duplicate)."""
        self.records.clear()
        self._uploaded.clear()

    # -- reading what arrived ---------------------------------------------------------------

    def requests(
        self,
        path_prefix: str = "",
        *,
        external_id: str | None = None,
        event_type: str | None = None,
        status: int | None = None,
    ) -> list[Recorded]:
        return [
            r
            for r in list(self.records)
            if r.path.startswith(path_prefix)
            and (external_id is None or r.external_id == external_id)
            and (event_type is None or r.event_type == event_type)
            and (status is None or r.status == status)
        ]

    def count(
        self,
        path_prefix: str = "",
        *,
        external_id: str | None = None,
        event_type: str | None = None,
        status: int | None = None,
    ) -> int:
        return len(
            self.requests(
                path_prefix, external_id=external_id, event_type=event_type, status=status
            )
        )

    def accepted(self, path_prefix: str = "", **filters: Any) -> list[Recorded]:
        """The requests of the path answered 2xx."""
        return [
            r
            for r in self.requests(path_prefix, **filters)
            if r.status is not None and 200 <= r.status < 300
        ]

    def max_rate(self, path_prefix: str = "", window_sec: float = 1.0) -> int:
        """The most requests to the path that arrived within any `window_sec` window."""
        return max_in_window((r.at for r in self.requests(path_prefix)), window_sec)

    async def wait_for(
        self, count: int, path_prefix: str = "", *, within_sec: float = 30.0, **filters: Any
    ) -> list[Recorded]:
        """Polls until at least `count` requests to the path (and filters) have arrived."""
        deadline = time.monotonic() + within_sec
        while True:
            found = self.requests(path_prefix, **filters)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"fake CRM: {len(found)} of {count} requests to {path_prefix!r} "
                    f"{filters or ''} after {within_sec} s"
                )
            await asyncio.sleep(0.02)

    # -- serving ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        form, doc = _decode(request.content_type, body)
        recorded = Recorded(
            at=time.monotonic(),
            wall=time.time(),
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            body=body,
            form=form,
            json=doc,
        )
        index = len(self.records)
        self.records.append(recorded)
        scripted = self._next_scripted(request.path)
        delay = scripted.delay_sec if scripted else self._slow_delay(request.path)
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
        if scripted is not None and (scripted.status != 200 or scripted.body is not None):
            response = self._scripted(request.path, scripted)
        else:
            response = self._answer(request, recorded)
        done = _with_status(recorded, response.status)
        self.records[index] = done
        if self._on_record is not None:
            self._on_record(done)
        return response

    def _next_scripted(self, path: str) -> Answer | None:
        matching = [p for p, q in self._scripts.items() if q and path.startswith(p)]
        if not matching:
            return None
        return self._scripts[max(matching, key=len)].popleft()

    def _slow_delay(self, path: str) -> float:
        matching = [p for p in self._slow if path.startswith(p)]
        return self._slow[max(matching, key=len)] if matching else 0.0

    def _scripted(self, path: str, answer: Answer) -> web.Response:
        headers = {}
        if answer.retry_after is not None and not path.startswith(TELEGRAM_PREFIX):
            headers["Retry-After"] = _seconds(answer.retry_after)
        body = answer.body
        if body is None:
            body = _error_body(path, answer.status, answer.retry_after)
        return _json(body, answer.status, headers)

    def _answer(self, request: web.Request, recorded: Recorded) -> web.Response:
        path = request.path
        if path.startswith(TELEGRAM_PREFIX) and path.endswith("/sendMessage"):
            return self._telegram(path, recorded)
        if path.startswith(WEBHOOK_PREFIX):
            return self._webhook(recorded)
        if path == MEDIAPLAN:
            return self._mediaplan(recorded)
        if path == CREDENTIALS or path.startswith("/api/v5/"):
            return self._retailcrm(request, recorded)
        return _json({"error": f"no such endpoint: {request.method} {path}"}, 404)

    # RetailCRM ---------------------------------------------------------------------------

    def _retailcrm(self, request: web.Request, recorded: Recorded) -> web.Response:
        key = request.headers.get("X-API-KEY") or request.query.get("apiKey")
        if not key:
            return _crm_error(401, '"apiKey" is missing.')
        if self.api_key is not None and key != self.api_key:
            return _crm_error(403, 'Wrong "apiKey" value.')
        route = (request.method, request.path)
        if route == ("GET", CREDENTIALS):
            return _json(
                {
                    "success": True,
                    "credentials": [CALL_EVENT[4:], CALLS_UPLOAD[4:], CUSTOMERS[4:]],
                    "siteAccess": "access_full",
                    "sitesAvailable": ["main"],
                }
            )
        if route == ("POST", CALL_EVENT):
            return self._call_event(recorded)
        if route == ("POST", CALLS_UPLOAD):
            return self._calls_upload(recorded)
        if route == ("GET", CUSTOMERS):
            return self._customers(request)
        return _crm_error(404, "Method not found.")

    def _call_event(self, recorded: Recorded) -> web.Response:
        event = recorded.event
        if recorded.form is None or "event" not in recorded.form:
            return _crm_error(400, 'Parameter "event" is missing.')
        if not isinstance(event, dict):
            return _crm_error(400, 'Parameter "event" must be a JSON object.')
        errors: dict[str, str] = {}
        if not isinstance(event.get("phone"), str) or not event["phone"]:
            errors["phone"] = "This value should not be blank."
        if event.get("type") not in _CALL_EVENT_TYPES:
            errors["type"] = "The value you selected is not a valid choice."
        if event.get("type") == "hangup" and event.get("hangupStatus") not in _HANGUP_STATUSES:
            errors["hangupStatus"] = "The value you selected is not a valid choice."
        if not event.get("codes") and not event.get("userIds"):
            errors["codes"] = "Either codes or userIds should be specified."
        for name in ("codes", "userIds"):
            if name in event and not isinstance(event[name], list):
                errors[name] = "This value should be of type array."
        if errors:
            return _crm_error(400, "Errors in the input parameters", errors)
        return _json({"success": True, "notExistCodes": [], "notExistUsers": []})

    def _calls_upload(self, recorded: Recorded) -> web.Response:
        calls = recorded.calls
        if recorded.form is None or "calls" not in recorded.form:
            return _crm_error(400, 'Parameter "calls" is missing.')
        if not isinstance(calls, list) or not calls:
            return _crm_error(400, 'Parameter "calls" must be a non-empty JSON array.')
        errors: dict[str, str] = {}
        duplicates: list[str] = []
        for i, call in enumerate(calls):
            if not isinstance(call, dict):
                errors[f"calls[{i}]"] = "This value should be of type object."
                continue
            try:
                datetime.strptime(str(call.get("date")), _RETAILCRM_DATE)
            except ValueError:
                errors[f"calls[{i}].date"] = "This value is not a valid datetime."
            if call.get("type") not in _UPLOAD_TYPES:
                errors[f"calls[{i}].type"] = "The value you selected is not a valid choice."
            if not isinstance(call.get("phone"), str) or not call["phone"]:
                errors[f"calls[{i}].phone"] = "This value should not be blank."
            if "duration" in call and not isinstance(call["duration"], int):
                errors[f"calls[{i}].duration"] = "This value should be of type int."
            external = call.get("externalId")
            if external is not None and str(external) in self._uploaded:
                duplicates.append(str(external))
        if errors:
            return _crm_error(400, "Errors in the input parameters", errors)
        for call in calls:
            if call.get("externalId") is not None:
                self._uploaded.add(str(call["externalId"]))
        return _json(
            {
                "success": True,
                "processedCallsCount": len(calls) - len(duplicates),
                "duplicateCalls": duplicates,
            }
        )

    def _customers(self, request: web.Request) -> web.Response:
        phone = request.query.get("filter[name]", "")
        manager = self.managers.get(phone)
        customers = (
            []
            if manager is None
            else [
                {
                    "id": 1000 + manager,
                    "type": "customer",
                    "managerId": manager,
                    "phones": [{"number": phone}],
                }
            ]
        )
        return _json(
            {
                "success": True,
                "pagination": {
                    "limit": 20,
                    "totalCount": len(customers),
                    "currentPage": 1,
                    "totalPageCount": 1,
                },
                "customers": customers,
            }
        )

    # Telegram, webhook, MediaPush ----------------------------------------------------------

    def _telegram(self, path: str, recorded: Recorded) -> web.Response:
        token = path[len(TELEGRAM_PREFIX) : -len("/sendMessage")]
        if self.telegram_token is not None and token != self.telegram_token:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        doc = recorded.json if isinstance(recorded.json, dict) else recorded.form
        if not doc or not doc.get("chat_id") or not doc.get("text"):
            return _json(
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message text is empty",
                },
                400,
            )
        return _json(
            {
                "ok": True,
                "result": {
                    "message_id": next(self._ids),
                    "date": int(recorded.wall),
                    "chat": {"id": doc["chat_id"], "type": "group"},
                    "text": doc["text"],
                },
            }
        )

    def _webhook(self, recorded: Recorded) -> web.Response:
        if self.webhook_secret is not None:
            try:
                headers = {k.lower(): v for k, v in recorded.headers.items()}
                Webhook(self.webhook_secret).verify(recorded.body, headers)
            except WebhookVerificationError as error:
                return _json({"error": str(error)}, 401)
        return _json({"received": True})

    def _mediaplan(self, recorded: Recorded) -> web.Response:
        if not isinstance(recorded.json, dict):
            return _json({"error": "a JSON object is expected"}, 400)
        return _json({"accepted": True, "request_id": next(self._ids)}, 202)


def max_in_window(times: Iterable[float], window_sec: float = 1.0) -> int:
    """The largest number of `times` inside any half-open window [t, t + window_sec)."""
    ordered = sorted(times)
    best = 0
    start = 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window_sec:
            start += 1
        best = max(best, end - start + 1)
    return best


def _decode(content_type: str, body: bytes) -> tuple[dict[str, str] | None, Any]:
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode(), keep_blank_values=True)), None
    if content_type == "application/json" and body:
        try:
            return None, orjson.loads(body)
        except orjson.JSONDecodeError:
            return None, None
    return None, None


def _with_status(recorded: Recorded, status: int) -> Recorded:
    return Recorded(
        at=recorded.at,
        wall=recorded.wall,
        method=recorded.method,
        path=recorded.path,
        query=recorded.query,
        headers=recorded.headers,
        body=recorded.body,
        form=recorded.form,
        json=recorded.json,
        status=status,
    )


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _error_body(path: str, status: int, retry_after: float | None) -> dict[str, Any]:
    if path.startswith(TELEGRAM_PREFIX):
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": "Scripted"}
        if status == 429:
            wait = int(retry_after or 1)
            body["description"] = f"Too Many Requests: retry after {wait}"
            body["parameters"] = {"retry_after": wait}
        return body
    if status == 429:
        return {"success": False, "errorMsg": "Too many requests"}
    return {"success": False, "errorMsg": f"Scripted answer {status}"}


def _crm_error(status: int, message: str, errors: Mapping[str, str] | None = None) -> web.Response:
    body: dict[str, Any] = {"success": False, "errorMsg": message}
    if errors:
        body["errors"] = dict(errors)
    return _json(body, status)


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body),
        status=status,
        content_type="application/json",
        headers=headers,
    )


# -- a separate process ---------------------------------------------------------------------


async def _serve(args: argparse.Namespace, sink: IO[bytes] | None) -> None:
    def record(recorded: Recorded) -> None:
        if sink is not None:
            sink.write(orjson.dumps(recorded.as_json()) + b"\n")
            sink.flush()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    crm = FakeCrm(
        port=args.port,
        api_key=args.api_key,
        telegram_token=args.telegram_token,
        webhook_secret=args.webhook_secret,
        managers={phone: int(user) for phone, user in (m.split("=", 1) for m in args.manager)},
        on_record=record,
    )
    async with crm:
        sys.stdout.write(f"fake_crm ready on {crm.url}\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.fake_crm")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record", help="append each request as a JSON line to this file")
    parser.add_argument("--api-key", help="the RetailCRM key accepted (default: any)")
    parser.add_argument("--telegram-token", help="the bot token accepted (default: any)")
    parser.add_argument("--webhook-secret", help="verify Standard Webhooks signatures")
    parser.add_argument(
        "--manager", action="append", default=[], help="PHONE=MANAGER_ID for customers lookups"
    )
    args = parser.parse_args(argv)
    if args.record:
        with Path(args.record).open("ab") as sink:
            asyncio.run(_serve(args, sink))
    else:
        asyncio.run(_serve(args, None))


if __name__ == "__main__":
    main()
