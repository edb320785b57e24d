"""The worker's connections to the broker cut for 20 s mid-stream: it lives through it and every
row is there afterwards, exactly once (issue 8, part 1).

Tansu keeps its log in memory, so it cannot be restarted without losing it; what is cut is the
network between the worker and the broker. Tansu advertises the proxy's address, so every
client connection, not only the bootstrap one, goes through the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from schemas.topics import ERROR_EVENTS, TELEPHONY_CALLS
from switchboard.broker import end_offsets
from switchboard.runtime.embedded import EmbeddedBroker, free_port, tansu_binary
from tests.support.stack import Process, publish, wait_until
from tests.support.traffic import shuffled_with_duplicates

pytestmark = pytest.mark.integration

CALLS = 1500
CUT_SEC = 20.0


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 with its own event loop thread; `cut` drops every connection
    and refuses new ones until `restore`."""

    def __init__(self, target_port: int, port: int) -> None:
        self.target_port = target_port
        self.port = port
        self.cut_off = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> CuttableProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def cut(self) -> None:
        async def drop_all() -> None:
            self.cut_off = True
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()

        self._call(drop_all())

    def restore(self) -> None:
        self.cut_off = False

    def stop(self) -> None:
        async def close() -> None:
            if self._server:
                self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()

        self._call(close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.cut_off:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


@pytest.fixture
def proxied_broker(tmp_path: Path) -> Iterator[tuple[str, CuttableProxy]]:
    """Tansu listening on one port and advertising the proxy's: yields the proxy's bootstrap."""
    port, proxy_port = free_port(), free_port()
    log = (tmp_path / "tansu.log").open("ab")
    process = subprocess.Popen(
        [
            str(tansu_binary()),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{proxy_port}",
        ],
        env={**os.environ, "RUST_LOG": "warn"},
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    broker = EmbeddedBroker(port, process)
    proxy = CuttableProxy(port, proxy_port).start()
    try:
        wait_until(lambda: _accepts(port), timeout=15, what="tansu")
        yield f"127.0.0.1:{proxy_port}", proxy
    finally:
        proxy.stop()
        broker.stop()
        log.close()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


async def test_a_20_s_broker_connection_cut_mid_stream_loses_and_doubles_nothing(
    proxied_broker: tuple[str, CuttableProxy],
    registry_url: str,
    make_database: Callable[[], str],
    start_worker: Callable[..., Process],
) -> None:
    bootstrap, proxy = proxied_broker
    database = make_database()
    events = shuffled_with_duplicates(CALLS, seed=31)
    half = len(events) // 2

    def event_rows() -> int:
        with psycopg.connect(database) as conn:
            row = conn.execute("SELECT count(*) FROM call_events").fetchone()
        return int(row[0]) if row else 0

    await publish(bootstrap, registry_url, TELEPHONY_CALLS, events[:half])
    worker = start_worker(bootstrap, database, batch_size="100", heartbeat_interval_sec="1")
    wait_until(lambda: event_rows() > 0, timeout=120, what="the worker to write rows")

    proxy.cut()
    cut_at = time.monotonic()
    rows_at_cut = event_rows()
    while time.monotonic() - cut_at < CUT_SEC:
        await asyncio.sleep(1)
        assert not worker.exited(), worker.log_tail()
    proxy.restore()
    restored_at = time.monotonic()
    await publish(bootstrap, registry_url, TELEPHONY_CALLS, events[half:])

    wait_until(
        lambda: event_rows() == 4 * CALLS,
        timeout=180,
        interval=0.5,
        what=f"every event after the cut ({event_rows()} of {4 * CALLS})",
    )
    recovery = time.monotonic() - restored_at
    await asyncio.sleep(3)
    with psycopg.connect(database) as conn:
        row = conn.execute(
            """SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM call_events),
                      (SELECT count(*) FROM call_participants)"""
        ).fetchone()
    assert row == (CALLS, 4 * CALLS, 2 * CALLS)
    assert not worker.exited(), worker.log_tail()
    errors = sum(end_offsets(bootstrap, [(ERROR_EVENTS.name, p) for p in range(6)]).values())
    assert errors == 0
    print(
        f"sent {len(events)} events, cut {CUT_SEC:.0f} s with {rows_at_cut} event rows written, "
        f"all {4 * CALLS} rows {recovery:.1f} s after the restore"
    )
