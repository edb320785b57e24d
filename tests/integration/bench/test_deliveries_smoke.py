"""`python -m bench.deliveries` runs end to end: a few hundred deliveries, proving nothing about
speed."""

from __future__ import annotations

import pytest

from tests.support.bench import run_bench

pytestmark = pytest.mark.integration


def test_the_deliveries_benchmark_runs_and_reports_both_senders() -> None:
    result = run_bench("deliveries", "--events", "300", "--passes", "1", "--concurrency", "4")
    assert result["calls"] > 0
    assert set(result["deliveries"]) == {"retailcrm", "webhook"}
    total = sum(result["deliveries"].values())
    # A hangup to RetailCRM is two requests: its call event and the upload.
    assert total < result["requests"] < 2 * total
    assert [p["sender"] for p in result["passes"]] == ["plain", "engine"]
    for measured in result["passes"]:
        assert measured["deliveries"] == total
        assert measured["requests"] == result["requests"]
        assert measured["seconds"] > 0
    # Every delivery the engine claimed was sent: none failed, skipped or left pending.
    assert result["engine_statuses"] == {"sent": total}
    assert result["ratio"] > 0
    assert result["machine"]["cpus"] >= 1


def test_bench_ingest_with_integrations_fills_the_outbox_and_never_calls_the_crm() -> None:
    """`bench.ingest --integrations` (issue 12's added cost): no deliver process runs, so the
    worker's rows and the outbox fill while the CRM hears nothing."""
    result = run_bench(
        "ingest",
        "--events",
        "1000",
        "--batch-size",
        "200",
        "--baseline-passes",
        "1",
        "--integrations",
    )
    assert result["integrations"] is True
    assert set(result["outbox_rows"]) == {"retailcrm", "webhook", "telegram"}
    # Telegram: one message per hangup, i.e. per call.
    assert result["outbox_rows"]["telegram"] == result["calls"]
    assert result["outbox_rows"]["retailcrm"] == result["outbox_rows"]["webhook"] > 0
    assert result["crm_requests"] == 0
