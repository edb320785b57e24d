"""Reconciliation (7.4.2): a lagging master stage is repaired by the mapping, a leading one only
reported, and a second run finds nothing left to repair."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

from sinks.masterdeal.deals import write_deals
from sinks.masterdeal.reconcile import DealDesync, ReconcileReport, reconcile
from streams.masterdeal.events import DealEvent
from streams.masterdeal.ids import master_deal_id_for
from streams.masterdeal.sla_policy import SlaPolicy
from tests.support.clock import DEAL_T0 as T0
from tests.support.consume import read_canonical
from tests.support.deal_tables import snapshot
from tests.support.deals import DEAL_ID, event
from tests.support.stack import run

pytestmark = pytest.mark.integration

POLICY = SlaPolicy()
NOW = T0 + timedelta(days=60)

# CRM says "Offer Sent", but under an event type the mapping does not know: the master stays
# at briefed although CRM's own status implies offer_ready.
LAGGING = [
    event(1, "crm.deal.created", 0, "Deal Created"),
    event(2, "crm.brief.submitted", 1, "Brief Submitted"),
    event(3, "crm.deal.updated", 2, "Offer Sent"),
]
# The master reached offer_ready, then CRM went back to saying "Deal Created".
LEADING_DEAL = "D-2001"
LEADING = [
    replace(e, event_key=f"lead-{e.event_key}", event_id=f"lead-{e.event_id}", deal_id=LEADING_DEAL)
    for e in [
        event(1, "crm.deal.created", 0, "Deal Created"),
        event(2, "crm.offer.sent", 1, "Offer Sent"),
        event(3, "crm.deal.reopened", 2, "Deal Created"),
    ]
]


async def written(conn: asyncpg.Connection, events: list[DealEvent]) -> None:
    """The deals of `events` alone in the database."""
    await conn.execute("TRUNCATE master_deal, master_deal_event CASCADE")
    await write_deals(conn, events, sla=POLICY, now=NOW)


async def reconciled(conn: asyncpg.Connection, events: list[DealEvent]) -> ReconcileReport:
    await written(conn, events)
    return await reconcile(conn, sla=POLICY, now=NOW, repair=True)


async def history(conn: asyncpg.Connection, deal_id: str) -> list[tuple[Any, ...]]:
    rows = await conn.fetch(
        """SELECT h.event_id, h.event_type, h.occurred_at, h.moved_stage, h.stage_after
        FROM master_deal_stage_history h JOIN master_deal d USING (master_deal_id)
        WHERE d.deal_id = $1 ORDER BY h.occurred_at, h.event_key""",
        deal_id,
    )
    return [tuple(r) for r in rows]


def test_a_lagging_stage_is_repaired_by_one_synthetic_event(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    report = run(loop, reconciled(conn, LAGGING))

    assert (report.checked, report.in_sync, report.repaired, report.not_repaired) == (1, 0, 1, 0)
    assert report.desyncs == [
        DealDesync(
            deal_id=DEAL_ID,
            master_deal_id=master_deal_id_for(DEAL_ID),
            master_stage="briefed",
            implied_stage="offer_ready",
            direction="lags",
            unmapped=(),
            repaired=True,
        )
    ]
    assert [s.stage for s in report.repaired_states] == ["offer_ready"]
    stage = run(loop, conn.fetchval("SELECT stage FROM master_deal WHERE deal_id = $1", DEAL_ID))
    assert stage == "offer_ready"
    # Dated when CRM reported the status, so the history reads as if it had arrived mapped.
    synthetic = (
        f"reconcile:{DEAL_ID}:crm.offer.sent",
        "crm.offer.sent",
        T0 + timedelta(days=2),
        True,
        "offer_ready",
    )
    assert [r for r in run(loop, history(conn, DEAL_ID)) if r[0].startswith("reconcile:")] == [
        synthetic
    ]
    assert len(run(loop, history(conn, DEAL_ID))) == len(LAGGING) + 1


def test_a_second_run_repairs_nothing_and_changes_nothing(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    run(loop, reconciled(conn, LAGGING))
    once = run(loop, snapshot(conn))

    again = run(loop, reconcile(conn, sla=POLICY, now=NOW, repair=True))

    assert (again.checked, again.in_sync, again.lagging, again.leading) == (1, 1, 0, 0)
    assert again.desyncs == again.repaired_states == []
    assert run(loop, snapshot(conn)) == once


def test_a_leading_stage_is_reported_and_left_alone(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    report = run(loop, reconciled(conn, [*LAGGING, *LEADING]))

    assert (report.checked, report.repaired, report.leading) == (2, 1, 1)
    [leading] = [d for d in report.desyncs if d.direction == "leads"]
    assert (leading.deal_id, leading.master_stage, leading.implied_stage) == (
        LEADING_DEAL,
        "offer_ready",
        "lead_created",
    )
    assert not leading.repaired
    assert [s.deal_id for s in report.repaired_states] == [DEAL_ID]
    assert len(run(loop, history(conn, LEADING_DEAL))) == len(LEADING)
    stage = run(
        loop, conn.fetchval("SELECT stage FROM master_deal WHERE deal_id = $1", LEADING_DEAL)
    )
    assert stage == "offer_ready"


def test_a_dry_run_reports_the_lag_and_writes_nothing(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    run(loop, written(conn, LAGGING))
    before = run(loop, snapshot(conn))

    report = run(loop, reconcile(conn, sla=POLICY, now=NOW, repair=False))

    assert (report.lagging, report.repaired, report.not_repaired) == (1, 0, 1)
    assert [d.repaired for d in report.desyncs] == [False]
    assert report.repaired_states == []
    assert run(loop, snapshot(conn)) == before


# Four deals in sync, each with CRM at a status the mapping does not know.
UNMAPPED = [
    replace(e, event_key=f"{n}-{e.event_key}", event_id=f"{n}-{e.event_id}", deal_id=f"D-{n}")
    for n in range(4)
    for e in [
        event(1, "crm.deal.created", 0, "Deal Created"),
        event(2, "media.mediaplan.ready", 1, "Plan Ready"),
        event(3, "crm.deal.updated", 2, "Awaiting Client"),
    ]
]


def test_unmapped_statuses_are_counted_and_deals_are_paged(
    conn: asyncpg.Connection, loop: asyncio.AbstractEventLoop
) -> None:
    run(loop, written(conn, UNMAPPED))

    report = run(loop, reconcile(conn, sla=POLICY, now=NOW, repair=True, page_size=2))

    assert (report.checked, report.in_sync, report.unmapped_statuses) == (4, 4, 4)
    assert report.desyncs == []
    assert_unmapped_reported(report.to_json())


def assert_unmapped_reported(as_json: dict[str, Any]) -> None:
    """UNMAPPED's one unknown status, counted, with three of its four deals as examples."""
    [unmapped] = as_json["unmapped"]
    examples = unmapped.pop("example_deal_ids")
    assert unmapped == {"domain": "crm", "status": "Awaiting Client", "count": 4}
    assert len(examples) == 3 and set(examples) < {"D-0", "D-1", "D-2", "D-3"}


def test_the_dry_run_names_the_unmapped_statuses_in_both_outputs(
    make_database: Callable[[], str], loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    url = make_database()
    run(loop, _write(url, [*UNMAPPED, *LAGGING]))
    env = {"DATABASE_URL": url, "SWITCHBOARD_HOME": str(tmp_path)}

    text = reconcile_cli(env, "--dry-run")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].endswith("; 4 unmapped statuses")
    at = lines.index("unmapped statuses (domain, status: deals, e.g.):")
    assert lines[at + 1].startswith("  crm, 'Awaiting Client': 4 (e.g. D-")
    assert len(lines[at + 1].split("e.g. ")[1].split(", ")) == 3

    as_json = reconcile_cli(env, "--dry-run", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert_unmapped_reported(orjson.loads(as_json.stdout))


def test_the_cli_repairs_and_prints_a_summary_without_a_broker(
    make_database: Callable[[], str], loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    url = make_database()
    run(loop, _write(url, [*LAGGING, *LEADING]))
    env = {"DATABASE_URL": url, "SWITCHBOARD_HOME": str(tmp_path)}

    def cli(*flags: str) -> subprocess.CompletedProcess[str]:
        return reconcile_cli(env, *flags)

    dry = cli("--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert orjson.loads(dry.stdout)["not_repaired"] == 1

    done = cli()
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "checked 2 deals: 0 in sync, 1 lagging (1 repaired, 0 not repaired), 1 leading;"
        " 0 unmapped statuses"
    )
    assert f"{DEAL_ID}: master briefed, domains imply offer_ready (lags): repaired" in done.stdout
    assert "no broker configured" in done.stderr

    again = cli("--json")
    assert again.returncode == 0, again.stderr
    assert orjson.loads(again.stdout)["repaired"] == 0


def test_the_cli_publishes_the_repaired_deals_canonical_events(
    make_database: Callable[[], str],
    fresh_broker: str,
    registry_url: str,
    loop: asyncio.AbstractEventLoop,
    tmp_path: Path,
) -> None:
    url = make_database()
    run(loop, _write(url, [*LAGGING, *LEADING]))
    env = {
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": fresh_broker,
        "SCHEMA_REGISTRY_URL": registry_url,
        "SWITCHBOARD_HOME": str(tmp_path),
    }

    done = reconcile_cli(env)

    assert done.returncode == 0, done.stderr
    published = run(loop, _consume(fresh_broker, registry_url))
    # Only the repaired deal, keyed by its master deal id, up to the stage the repair reached.
    assert {key for key, _ in published} == {master_deal_id_for(DEAL_ID)}
    stages = [(e["topic"], e["stage"]) for _, e in published if "stage.changed" in e["topic"]]
    assert stages[-1] == ("masterdeal.stage.changed", "offer_ready")


def reconcile_cli(env: dict[str, str], *flags: str) -> subprocess.CompletedProcess[str]:
    """`switchboard reconcile`, configured by `env` alone (no broker unless it names one)."""
    inherited = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    return subprocess.run(
        [sys.executable, "-m", "switchboard", "reconcile", *flags],
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def _consume(bootstrap: str, registry_url: str) -> list[tuple[str, dict[str, Any]]]:
    """Every masterdeal.* record on the broker, with its key, within a few seconds."""
    return await read_canonical(
        bootstrap,
        registry_url,
        "test-reconcile",
        until=lambda found: any(e["stage"] == "offer_ready" for _, e in found),
        within_sec=10,
    )


async def _write(url: str, events: list[DealEvent]) -> None:
    conn = await asyncpg.connect(url)
    try:
        await write_deals(conn, events, sla=POLICY, now=NOW)
    finally:
        await conn.close()
