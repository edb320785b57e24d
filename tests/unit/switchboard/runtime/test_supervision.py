"""The restart policy of `switchboard up`: exponential, capped, forgiven after a stable run."""

from __future__ import annotations

import signal

from hypothesis import given
from hypothesis import strategies as st

from switchboard.runtime.processes import ChildProcess, ProcessMark
from switchboard.runtime.supervision import Backoff, Supervisor, describe_exit

POLICY = Backoff(initial_sec=1.0, max_sec=30.0, reset_after_sec=60.0)


def test_delays_double_from_one_second_up_to_thirty() -> None:
    assert [POLICY.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


@given(st.integers(min_value=0, max_value=10_000))
def test_delays_never_shrink_and_never_exceed_the_ceiling(crashes: int) -> None:
    assert POLICY.initial_sec <= POLICY.delay(crashes) <= POLICY.max_sec
    assert POLICY.delay(crashes) <= POLICY.delay(crashes + 1)


@given(
    st.integers(min_value=0, max_value=1_000),
    st.floats(min_value=0, max_value=59.99),
)
def test_a_crash_soon_after_a_start_adds_to_the_run(before: int, uptime: float) -> None:
    assert POLICY.crashes_in_a_row(before, uptime) == before + 1


@given(st.integers(min_value=0, max_value=1_000), st.floats(min_value=60, max_value=1e9))
def test_a_child_that_ran_a_while_starts_its_count_again(before: int, uptime: float) -> None:
    crashes = POLICY.crashes_in_a_row(before, uptime)
    assert crashes == 1
    assert POLICY.delay(crashes) == POLICY.initial_sec


def test_exit_statuses_read_as_words() -> None:
    assert describe_exit(-signal.SIGKILL) == "SIGKILL"
    assert describe_exit(3) == "status 3"
    assert describe_exit(None) == "running"


class _Recorded(ChildProcess):
    """A child that only notes what it is told, in a log shared by its siblings."""

    def __init__(self, name: str, told: list[tuple[str, str]]) -> None:
        super().__init__(name, {})
        self.told = told

    @property
    def mark(self) -> ProcessMark | None:
        return None

    def terminate(self) -> None:
        self.told.append(("terminate", self.command))

    def stop(self) -> None:
        self.told.append(("stop", self.command))


def test_replicas_are_told_to_stop_together_newest_kind_first() -> None:
    told: list[tuple[str, str]] = []
    supervisor = Supervisor(spawn=lambda name: _Recorded(name, told), on_change=lambda _: None)
    for name in ("api", "worker-1", "worker-2"):
        supervisor.start(name)

    supervisor.stop_all()

    assert told == [
        ("terminate", "worker-2"),
        ("terminate", "worker-1"),
        ("stop", "worker-2"),
        ("stop", "worker-1"),
        ("terminate", "api"),
        ("stop", "api"),
    ]
