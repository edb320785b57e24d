"""`switchboard import asterisk-queue-log`: a real Asterisk queue_log into telephony.queue and
telephony.agents, published as a backfill so that a log of any year is never refused as late."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schemas.publishing import ContractPublisher
from schemas.queue_log import AgentLine, BadLine, ParsedLine, SkippedLine, parse_queue_log
from schemas.topics import TELEPHONY_AGENTS, TELEPHONY_QUEUE
from switchboard.console import EXIT_FAILED, EXIT_OK, report_failure, usage_error
from switchboard.imports.backfill import backfill_publisher
from switchboard.kafka.publisher import PublishError
from switchboard.settings import Settings


@dataclass(slots=True)
class _Tally:
    queue: int = 0
    agents: int = 0
    bad: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


async def import_queue_log(settings: Settings, file: str, *, enterprise_id: str, tz: str) -> int:
    """Publishes every queue and agent event of `file`; a malformed line is reported, skipped."""
    try:
        zone = ZoneInfo(tz)
        settings.require_kafka()
        lines = await asyncio.to_thread(read_lines, file)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        return usage_error(f"unknown time zone {tz!r}: {exc}")
    except (RuntimeError, OSError) as exc:
        return usage_error(str(exc))
    tally = _Tally()
    try:
        async with backfill_publisher(settings, [TELEPHONY_QUEUE, TELEPHONY_AGENTS]) as publisher:
            for item in parse_queue_log(lines, enterprise_id=enterprise_id, tz=zone):
                await _publish(publisher, item, tally)
    except PublishError as exc:
        report_failure("error", str(exc))
        return EXIT_FAILED
    _summarise(file, tally, publisher.failed)
    return EXIT_FAILED if tally.bad or publisher.failed else EXIT_OK


async def _publish(
    publisher: ContractPublisher,
    item: ParsedLine | AgentLine | BadLine | SkippedLine,
    tally: _Tally,
) -> None:
    if isinstance(item, SkippedLine):
        tally.skipped[item.event] += 1
        return
    context = f"line {item.line_number}"
    if isinstance(item, BadLine):
        tally.bad += 1
        report_failure(context, item.reason)
        return
    records = [item.record] if isinstance(item, ParsedLine) else list(item.records)
    topic = TELEPHONY_QUEUE if isinstance(item, ParsedLine) else TELEPHONY_AGENTS
    for record in records:
        try:
            await publisher.publish(topic, record, context=context)
        except ValueError as exc:
            tally.bad += 1
            report_failure(context, str(exc))
            return
        if topic is TELEPHONY_QUEUE:
            tally.queue += 1
        else:
            tally.agents += 1


def read_lines(file: str) -> list[str]:
    """The file's lines (`-`: standard input); a stray non-UTF-8 byte is replaced, not fatal."""
    if file == "-":
        return sys.stdin.read().splitlines()
    with open(file, encoding="utf-8", errors="replace") as handle:
        return handle.read().splitlines()


def _summarise(file: str, tally: _Tally, failed: int) -> None:
    parts = [
        f"imported {tally.queue} queue events from {file} to {TELEPHONY_QUEUE.name}",
        f"{tally.agents} agent events to {TELEPHONY_AGENTS.name}",
    ]
    if tally.skipped:
        kinds = ", ".join(f"{event} {n}" for event, n in tally.skipped.most_common())
        parts.append(f"skipped {sum(tally.skipped.values())} queue-independent lines ({kinds})")
    if tally.bad or failed:
        parts.append(f"{tally.bad + failed} failed")
    print("; ".join(parts), file=sys.stderr)
