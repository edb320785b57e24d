"""`switchboard reconcile [--dry-run] [--json]`: the reconciliation job, then its publication.

The repairs are committed before anything is published. Should publishing fail (or no broker
be configured), nothing is lost: canonical event ids are deterministic, and the worker
publishes a deal's whole canonical list again on the deal's next event.

Exit status: 0 when the job ran (desyncs are findings, not failures), 1 when a repaired deal's
canonical events could not be published.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import asyncpg
import orjson

from schemas.publishing import connect_publisher
from schemas.topics import MASTERDEAL_TOPICS
from sinks.masterdeal.reconcile import DealDesync, ReconcileReport, reconcile
from streams.masterdeal.fold import DealState
from streams.masterdeal.publication import canonical_messages
from streams.masterdeal.sla_policy import configured_sla_policy
from switchboard.console import EXIT_FAILED, EXIT_OK, report_failure
from switchboard.kafka.publisher import PublishError
from switchboard.settings import Settings


async def run_reconcile(settings: Settings, *, dry_run: bool, as_json: bool) -> int:
    """Runs the job against the configured database; prints the report; the exit status."""
    policy = configured_sla_policy(settings.sla)
    conn = await asyncpg.connect(settings.require_database())
    try:
        report = await reconcile(conn, sla=policy, now=datetime.now(UTC), repair=not dry_run)
    finally:
        await conn.close()
    print(orjson.dumps(report.to_json()).decode() if as_json else summary(report, dry_run))
    if not report.repaired_states:
        return EXIT_OK
    if not settings.kafka_bootstrap_servers:
        print(
            "no broker configured (KAFKA_BOOTSTRAP_SERVERS): the repaired deals' canonical"
            " events were not published; the worker publishes them on each deal's next event",
            file=sys.stderr,
        )
        return EXIT_OK
    return await publish_canonical_events(settings, report.repaired_states)


async def publish_canonical_events(settings: Settings, states: list[DealState]) -> int:
    """Every canonical event of `states` onto masterdeal.*, keyed by master_deal_id."""
    try:
        async with connect_publisher(settings, on_failure=report_failure) as publisher:
            await publisher.prepare(MASTERDEAL_TOPICS)
            for state in states:
                for message in canonical_messages(state):
                    await publisher.publish(
                        message.topic,
                        message.record,
                        context=f"deal {state.deal_id} {message.topic.name}",
                        key=message.key,
                    )
    except (PublishError, ValueError) as exc:
        report_failure("error", str(exc))
        return EXIT_FAILED
    print(
        f"published {publisher.delivered} canonical events of {len(states)} repaired deals",
        file=sys.stderr,
    )
    return EXIT_FAILED if publisher.failed else EXIT_OK


def summary(report: ReconcileReport, dry_run: bool) -> str:
    """The report for a person: the counts, then one line per desynced deal."""
    unrepaired = "not repaired (dry run)" if dry_run else "not repaired"
    lines = [
        f"checked {report.checked} deals: {report.in_sync} in sync, {report.lagging} lagging"
        f" ({report.repaired} repaired, {report.not_repaired} {unrepaired}),"
        f" {report.leading} leading; {report.unmapped_statuses} unmapped statuses"
    ]
    lines += [f"  {_desync_line(d)}" for d in report.desyncs]
    if report.unmapped:
        lines.append("unmapped statuses (domain, status: deals, e.g.):")
        lines += [
            f"  {u.domain}, {u.status!r}: {u.count} (e.g. {', '.join(u.example_deal_ids)})"
            for u in report.unmapped_by_count()
        ]
    return "\n".join(lines)


def _desync_line(found: DealDesync) -> str:
    verdict = "repaired" if found.repaired else "not repaired"
    if found.direction == "leads":
        verdict = "reported (a stage never moves back)"
    line = (
        f"{found.deal_id}: master {found.master_stage}, domains imply {found.implied_stage}"
        f" ({found.direction}): {verdict}"
    )
    return f"{line}; unmapped: {', '.join(found.unmapped)}" if found.unmapped else line
