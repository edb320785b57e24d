"""`switchboard produce` before it reaches a broker: reading lines, and usage errors (status 2)."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import pytest

from switchboard.cli.produce import numbered_lines, produce_file
from switchboard.settings import Settings


async def read_all(stream: io.BufferedReader) -> list[tuple[int, bytes]]:
    return [line async for line in numbered_lines(stream)]


async def test_lines_are_numbered_from_one_and_a_last_line_needs_no_newline() -> None:
    stream = io.BufferedReader(io.BytesIO(b'{"a": 1}\n\n{"b": 2}\r\n{"c": 3}'))

    assert await read_all(stream) == [
        (1, b'{"a": 1}'),
        (2, b""),
        (3, b'{"b": 2}\r'),
        (4, b'{"c": 3}'),
    ]


async def test_lines_longer_than_one_read_are_put_together() -> None:
    long_line = b"x" * 200_000
    stream = io.BufferedReader(io.BytesIO(long_line + b"\nshort\n"))

    assert await read_all(stream) == [(1, long_line), (2, b"short")]


async def test_a_slow_pipe_gives_each_line_as_it_arrives() -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as reader, os.fdopen(write_end, "wb", buffering=0) as writer:
        lines = numbered_lines(reader)
        writer.write(b"first\n")
        # A reader waiting for 64 KiB, or for the end, would hang here.
        assert await asyncio.wait_for(anext(lines), timeout=5) == (1, b"first")
        writer.write(b"second\n")
        assert await asyncio.wait_for(anext(lines), timeout=5) == (2, b"second")
        writer.close()
        assert [line async for line in lines] == []


NO_BROKER = Settings(kafka_bootstrap_servers=None, schema_registry_url="mock://unit")
# Never contacted: the usage errors below come first.
UNREACHABLE = Settings(kafka_bootstrap_servers="127.0.0.1:9", schema_registry_url="mock://unit")


async def test_an_unknown_topic_is_a_usage_error_that_lists_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await produce_file(NO_BROKER, "telephony.cals", "-") == 2

    err = capsys.readouterr().err
    assert "unknown topic 'telephony.cals'" in err
    assert "telephony.calls" in err and "reference.dimensions" in err


async def test_a_missing_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.jsonl"

    assert await produce_file(UNREACHABLE, "telephony.calls", str(missing)) == 2
    assert f"cannot read {missing}: No such file or directory" in capsys.readouterr().err


async def test_no_broker_configured_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "calls.jsonl"
    events.write_text("{}\n")

    assert await produce_file(NO_BROKER, "telephony.calls", str(events)) == 2
    assert "no broker configured" in capsys.readouterr().err
