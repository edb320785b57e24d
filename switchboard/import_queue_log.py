"""`switchboard import asterisk-queue-log`: a real Asterisk queue_log into telephony.queue."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schemas.queue_log import BadLine, ParsedLine, parse_queue_log
from schemas.topics import TELEPHONY_QUEUE
from switchboard.produce import (
    EXIT_FAILED,
    EXIT_OK,
    Publisher,
    PublishError,
    report_failure,
    usage_error,
)
from switchboard.settings import Settings


async def import_queue_log(settings: Settings, file: str, *, enterprise_id: str, tz: str) -> int:
    """Publishes every queue event of `file`; a malformed line is reported and skipped."""
    try:
        zone = ZoneInfo(tz)
        settings.require_kafka()
        lines = await asyncio.to_thread(_read_lines, file)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        return usage_error(f"unknown time zone {tz!r}: {exc}")
    except (RuntimeError, OSError) as exc:
        return usage_error(str(exc))
    bad = 0
    skipped: Counter[str] = Counter()
    try:
        async with Publisher.connect(settings, on_failure=report_failure) as publisher:
            await publisher.prepare([TELEPHONY_QUEUE])
            for item in parse_queue_log(lines, enterprise_id=enterprise_id, tz=zone):
                if isinstance(item, ParsedLine):
                    context = f"line {item.line_number}"
                    try:
                        await publisher.publish(TELEPHONY_QUEUE, item.record, context=context)
                    except ValueError as exc:
                        bad += 1
                        report_failure(context, str(exc))
                elif isinstance(item, BadLine):
                    bad += 1
                    report_failure(f"line {item.line_number}", item.reason)
                else:
                    skipped[item.event] += 1
    except PublishError as exc:
        report_failure("error", str(exc))
        return EXIT_FAILED
    _summarise(file, publisher.delivered, skipped, bad + publisher.failed)
    return EXIT_FAILED if bad or publisher.failed else EXIT_OK


def _read_lines(file: str) -> list[str]:
    if file == "-":
        return sys.stdin.read().splitlines()
    with open(file, encoding="utf-8", errors="replace") as handle:
        return handle.read().splitlines()


def _summarise(file: str, delivered: int, skipped: Counter[str], failed: int) -> None:
    parts = [f"imported {delivered} queue events from {file} to {TELEPHONY_QUEUE.name}"]
    if skipped:
        kinds = ", ".join(f"{event} {n}" for event, n in skipped.most_common())
        parts.append(f"skipped {sum(skipped.values())} queue-independent lines ({kinds})")
    if failed:
        parts.append(f"{failed} failed")
    print("; ".join(parts), file=sys.stderr)
