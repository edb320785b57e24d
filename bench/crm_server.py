"""A local CRM for the integration benchmarks: answers as RetailCRM, a webhook receiver and the
Telegram Bot API do when all is well, as fast as it can, and counts what it received.

    python -m bench.crm_server --port P      # prints "crm_server ready on http://127.0.0.1:P"

It runs as a process of its own (`crm_server`), so the sender measured does not share its event
loop with the server. RetailCRM's paths answer `{"success": true}`; `GET /api/v5/customers`
answers one customer whose `managerId` is derived from the phone (`manager_of`), so the smart
redirect finds a manager for every number. `GET /_stats` gives the requests per path,
`POST /_reset` zeroes them. No faults, no recording of bodies: the tests' fake CRM does that.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

CALL_EVENT = "/api/v5/telephony/call/event"
CALLS_UPLOAD = "/api/v5/telephony/calls/upload"
CUSTOMERS = "/api/v5/customers"
CREDENTIALS = "/api/credentials"
WEBHOOK_PREFIX = "/hooks/"
TELEGRAM_PREFIX = "/bot"
READY = "crm_server ready on "
# RetailCRM users 1..MANAGERS are the managers the customers lookup names.
MANAGERS = 40

_SUCCESS = orjson.dumps({"success": True})
_TELEGRAM_OK = orjson.dumps({"ok": True, "result": {"message_id": 1}})


def manager_of(phone: str) -> int:
    """The managerId of the customer with this phone: stable, spread over 1..MANAGERS."""
    digits = "".join(c for c in phone if c.isdigit())
    return int(digits or "0") % MANAGERS + 1


def build_app() -> web.Application:
    counts: Counter[str] = Counter()

    def reply(body: bytes) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/_"):
            counts[_route(request.path)] += 1
        return await handler(request)

    async def success(request: web.Request) -> web.Response:
        await request.read()
        return reply(_SUCCESS)

    async def customers(request: web.Request) -> web.Response:
        phone = request.query.get("filter[name]", "")
        found = [{"id": manager_of(phone) * 1000, "managerId": manager_of(phone)}] if phone else []
        return reply(orjson.dumps({"success": True, "customers": found}))

    async def telegram(request: web.Request) -> web.Response:
        await request.read()
        return reply(_TELEGRAM_OK)

    async def webhook(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=204)

    async def stats(_: web.Request) -> web.Response:
        return reply(orjson.dumps({"by_path": dict(counts), "total": sum(counts.values())}))

    async def reset(_: web.Request) -> web.Response:
        counts.clear()
        return web.Response(status=204)

    app = web.Application(middlewares=[count])
    app.router.add_post(CALL_EVENT, success)
    app.router.add_post(CALLS_UPLOAD, success)
    app.router.add_get(CREDENTIALS, success)
    app.router.add_get(CUSTOMERS, customers)
    app.router.add_post(TELEGRAM_PREFIX + "{token}/sendMessage", telegram)
    app.router.add_post(WEBHOOK_PREFIX + "{name}", webhook)
    app.router.add_get("/_stats", stats)
    app.router.add_post("/_reset", reset)
    return app


def _route(path: str) -> str:
    """Counted per endpoint: every bot token's sendMessage, every webhook name, together."""
    if path.startswith(TELEGRAM_PREFIX):
        return "/bot*/sendMessage"
    if path.startswith(WEBHOOK_PREFIX):
        return WEBHOOK_PREFIX + "*"
    return path


async def serve(port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(build_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    print(f"{READY}http://127.0.0.1:{port}", flush=True)
    await stop.wait()
    await runner.cleanup()


@contextmanager
def crm_server(port: int, log_path: Path) -> Iterator[str]:
    """`python -m bench.crm_server` on `port`, stopped on exit; yields its URL."""
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.crm_server", "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=log_file,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline().decode()
            if not line.startswith(READY):
                raise RuntimeError(f"crm_server did not start: {log_path.read_text()[-2000:]}")
            yield line[len(READY) :].strip()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def stats(url: str) -> dict[str, int]:
    """Requests received per endpoint since the last reset."""
    with urllib.request.urlopen(f"{url}/_stats", timeout=10) as answer:
        by_path: dict[str, int] = orjson.loads(answer.read())["by_path"]
    return by_path


def reset(url: str) -> None:
    request = urllib.request.Request(f"{url}/_reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
