"""`switchboard produce TOPIC [FILE|-]`: JSON lines in, Avro in the Confluent wire format out.

A bad line is reported as `line N: reason` on stderr and skipped; the good lines still go. Exit
status: 0 when every line was delivered, 1 when any failed, 2 for a usage error.

Publishing goes through `schemas.publishing`, as for `simulate`, the imports and `reconcile`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

from schemas import topics
from schemas.jsonio import record_from_json
from schemas.publishing import ContractPublisher, connect_publisher
from schemas.topics import Topic
from switchboard.console import EXIT_FAILED, EXIT_OK, report_failure, usage_error
from switchboard.kafka.publisher import PublishError
from switchboard.settings import Settings

_READ_CHUNK = 1 << 16


@dataclass
class _Tally:
    lines: int = 0
    invalid: int = 0


async def produce_file(settings: Settings, topic_name: str, file: str) -> int:
    """Publishes each JSON line of `file` (`-`: stdin) to `topic_name`; returns the exit status."""
    try:
        topic = topics.topic(topic_name)
    except KeyError as exc:
        return usage_error(str(exc.args[0]))
    try:
        settings.require_kafka()
    except RuntimeError as exc:
        return usage_error(str(exc))
    try:
        stream = sys.stdin.buffer if file == "-" else await asyncio.to_thread(open, file, "rb")
    except OSError as exc:
        return usage_error(f"cannot read {file}: {exc.strerror}")
    try:
        async with connect_publisher(settings, on_failure=report_failure) as publisher:
            await publisher.prepare([topic])
            tally = await _publish_lines(publisher, topic, stream)
    except PublishError as exc:
        report_failure("error", str(exc))
        return EXIT_FAILED
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    failed = tally.invalid + publisher.failed
    summary = f"produced {publisher.delivered} of {tally.lines} events to {topic.name}"
    print(f"{summary}; {failed} failed" if failed else summary, file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


async def _publish_lines(publisher: ContractPublisher, topic: Topic, stream: IO[bytes]) -> _Tally:
    tally = _Tally()
    async for number, line in numbered_lines(stream):
        if not line.strip():
            continue
        tally.lines += 1
        context = f"line {number}"
        try:
            await publisher.publish(topic, _parse(topic, line), context=context)
        except ValueError as exc:
            tally.invalid += 1
            report_failure(context, str(exc))
    return tally


def _parse(topic: Topic, line: bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        # A line is one JSON document, so its column is all the position there is.
        raise ValueError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    return record_from_json(topic, obj)


async def numbered_lines(stream: IO[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """The lines of `stream`, numbered from 1, read off the loop. Each read returns what is
    available (`read1`), so a slow pipe's lines go out as they come, not in 64 KiB batches."""
    read = getattr(stream, "read1", stream.read)
    pending = b""
    number = 0
    while chunk := await asyncio.to_thread(read, _READ_CHUNK):
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            number += 1
            yield number, line
    if pending:
        yield number + 1, pending
