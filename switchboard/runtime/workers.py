"""The workers `switchboard up` runs: how many, what each is called, and what sets each apart.

Every worker joins the same consumer group (the app id), so Kafka hands each of them a share
of every input topic's partitions; a partition is read by one member at a time, so workers
beyond the partition count stand by as spares. What must differ between them is what each
binds on this machine: the Prometheus port.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from switchboard.settings import environment_name

WORKER = "worker"
_PORT_VARIABLE = environment_name("worker_web_port")


def default_worker_count() -> int:
    """One per core this process may run on: the cores a container or `taskset` grants,
    not every core of the machine."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity outside Linux
        return max(1, os.cpu_count() or 1)


def worker_names(count: int) -> list[str]:
    """`worker` alone, as a single-worker stack always called it; else `worker-1` to `worker-N`."""
    if count < 1:
        raise ValueError(f"at least one worker is needed, not {count}")
    return [WORKER] if count == 1 else [f"{WORKER}-{i}" for i in range(1, count + 1)]


def is_worker(name: str) -> bool:
    return name == WORKER or name.startswith(f"{WORKER}-")


def worker_env(env: Mapping[str, str], name: str, names: list[str]) -> dict[str, str]:
    """`env` for worker `name`: the configured metrics port for the first, the ports after it
    for the others, in order; 0 (no metrics endpoint) stays 0 for all."""
    base = int(env.get(_PORT_VARIABLE) or 0)
    port = base + names.index(name) if base else 0
    return {**env, _PORT_VARIABLE: str(port)}


def idle_workers(workers: int, partitions: int) -> int:
    """Workers that will own no partition of a topic with `partitions` partitions."""
    return max(0, workers - partitions)
