"""The sampler's findings as Prometheus series (contract 10), on the default registry.

A collector rather than gauges set by the sampler: each scrape reads the latest report, so a
partition that went away leaves no series behind, and nothing is exported before the first
sample. A process runs one sampler; when tests run several, the newest started is exported.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ops.lag.report import LagReport
from ops.lag.sampler import LagSampler

PARTITION_LABELS = ["group", "topic", "partition"]
_SAMPLERS: list[LagSampler] = []


def export(sampler: LagSampler) -> None:
    _SAMPLERS.append(sampler)


def withdraw(sampler: LagSampler) -> None:
    if sampler in _SAMPLERS:
        _SAMPLERS.remove(sampler)


class LagCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        report = _SAMPLERS[-1].latest if _SAMPLERS else None
        return iter(families(report, now=time.time()))


def families(report: LagReport | None, *, now: float) -> list[GaugeMetricFamily]:
    """Every family, empty without a report: the names exist from the process's start."""
    lag = GaugeMetricFamily(
        "switchboard_consumer_lag",
        "Messages between the group's committed offset and the end of the partition.",
        labels=PARTITION_LABELS,
    )
    lag_sec = GaugeMetricFamily(
        "switchboard_consumer_lag_seconds",
        "Age of the partition's oldest unprocessed message, interpolated from end offsets.",
        labels=PARTITION_LABELS,
    )
    status = GaugeMetricFamily(
        "switchboard_consumer_status",
        "Burrow status of the partition: 0 OK, 1 WARN, 2 STALL, 3 STOP, 4 REWIND.",
        labels=PARTITION_LABELS,
    )
    group_status = GaugeMetricFamily(
        "switchboard_consumer_group_status",
        "The group's status: its worst partition's (0 OK ... 4 REWIND).",
        labels=["group"],
    )
    worker_up = GaugeMetricFamily(
        "switchboard_worker_up",
        "1 while a worker of the group has a fresh heartbeat, else 0.",
        labels=["group"],
    )
    pending = GaugeMetricFamily(
        "switchboard_outbox_pending", "CRM deliveries waiting in the integration outbox."
    )
    oldest = GaugeMetricFamily(
        "switchboard_outbox_oldest_pending_seconds",
        "Age of the oldest pending CRM delivery (0 when none).",
    )
    sample_age = GaugeMetricFamily(
        "switchboard_lag_sample_age_seconds",
        "Seconds since the lag sampler's findings were read (they age while reads fail).",
    )
    found = [lag, lag_sec, status, group_status, worker_up, pending, oldest, sample_age]
    if report is None:
        return found
    for p in report.partitions:
        labels = [p.group, p.topic, str(p.partition)]
        lag.add_metric(labels, p.lag)
        lag_sec.add_metric(labels, p.lag_sec)
        status.add_metric(labels, int(p.status))
    group_status.add_metric([report.group], int(report.status))
    if report.worker_up is not None:
        worker_up.add_metric([report.group], 1 if report.worker_up else 0)
    if report.outbox is not None:
        pending.add_metric([], report.outbox.pending)
        oldest.add_metric([], report.outbox.oldest_sec or 0.0)
    sample_age.add_metric([], max(0.0, now - report.sampled_at))
    return found


REGISTRY.register(LagCollector())
