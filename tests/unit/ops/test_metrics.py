"""The sampler's findings as the Prometheus series the alert rules name."""

from __future__ import annotations

from ops.lag.metrics import families
from ops.lag.outbox import OutboxBacklog, PendingDeliveries
from ops.lag.report import LagReport, Publication
from ops.lag.tracker import PartitionVerdict
from streams.runtime.lag_status import LagStatus

NAMES = {
    "switchboard_consumer_lag",
    "switchboard_consumer_lag_seconds",
    "switchboard_consumer_status",
    "switchboard_consumer_group_status",
    "switchboard_worker_up",
    "switchboard_outbox_pending",
    "switchboard_outbox_oldest_pending_seconds",
    "switchboard_lag_sample_age_seconds",
}


def test_every_family_exists_before_the_first_sample_and_is_empty() -> None:
    found = families(None, now=0.0)
    assert {f.name for f in found} == NAMES
    assert all(not f.samples for f in found)


def test_a_report_becomes_labelled_series() -> None:
    report = LagReport(
        group="g",
        window_sec=30.0,
        sampled_at=100.0,
        partitions=(
            PartitionVerdict("g", "telephony.calls", 0, 5, 9, 4, 12.5, LagStatus.STALL),
            PartitionVerdict("g", "telephony.calls", 1, 9, 9, 0, 0.0, LagStatus.OK),
        ),
        publication=Publication((), 0, 0.0),
        outbox=OutboxBacklog((PendingDeliveries("0367", 3, 42.0),)),
        newest_processed_sec={},
        worker_up=False,
    )
    series = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families(report, now=103.0)
        for s in f.samples
    }
    calls0 = (("group", "g"), ("partition", "0"), ("topic", "telephony.calls"))
    assert series[("switchboard_consumer_lag", calls0)] == 4
    assert series[("switchboard_consumer_lag_seconds", calls0)] == 12.5
    assert series[("switchboard_consumer_status", calls0)] == 2
    assert series[("switchboard_consumer_group_status", (("group", "g"),))] == 2
    assert series[("switchboard_worker_up", (("group", "g"),))] == 0
    assert series[("switchboard_outbox_pending", ())] == 3
    assert series[("switchboard_outbox_oldest_pending_seconds", ())] == 42.0
    assert series[("switchboard_lag_sample_age_seconds", ())] == 3.0
