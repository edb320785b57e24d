"""`switchboard up --workers N`: names, metrics ports and spares of the worker pool."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.runtime.supervision import replica_kind
from switchboard.runtime.workers import (
    default_worker_count,
    idle_workers,
    is_worker,
    worker_env,
    worker_names,
)

PORT = "SWITCHBOARD_WORKER_WEB_PORT"


def test_the_default_is_one_worker_per_core_this_process_may_use() -> None:
    assert default_worker_count() == len(os.sched_getaffinity(0))


def test_a_lone_worker_keeps_its_name_and_several_are_numbered() -> None:
    assert worker_names(1) == ["worker"]
    assert worker_names(3) == ["worker-1", "worker-2", "worker-3"]
    with pytest.raises(ValueError):
        worker_names(0)


@given(st.integers(min_value=1, max_value=64))
def test_every_worker_is_a_worker_and_a_replica_of_one_kind(count: int) -> None:
    names = worker_names(count)
    assert len(set(names)) == count
    assert all(is_worker(name) and replica_kind(name) == "worker" for name in names)
    assert not is_worker("api") and replica_kind("api") == "api"


@given(st.integers(min_value=1, max_value=64), st.integers(min_value=1024, max_value=60_000))
def test_metrics_ports_follow_the_configured_one_and_never_collide(count: int, base: int) -> None:
    names = worker_names(count)
    ports = [int(worker_env({PORT: str(base)}, name, names)[PORT]) for name in names]
    assert ports == list(range(base, base + count))


def test_no_metrics_endpoint_stays_none_for_every_worker() -> None:
    names = worker_names(4)
    assert {worker_env({PORT: "0"}, name, names)[PORT] for name in names} == {"0"}
    assert {worker_env({}, name, names)[PORT] for name in names} == {"0"}


def test_the_rest_of_the_environment_is_passed_on() -> None:
    env = worker_env({PORT: "6066", "SWITCHBOARD_APP_ID": "sb"}, "worker-2", worker_names(2))
    assert env == {PORT: "6067", "SWITCHBOARD_APP_ID": "sb"}


def test_workers_beyond_the_partitions_are_idle() -> None:
    assert [idle_workers(n, 6) for n in (1, 6, 7, 10)] == [0, 0, 1, 4]
