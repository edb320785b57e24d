"""One `up` per home: the lock refuses a second one, and a dead one's records mislead no one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import orjson
import pytest

from switchboard import settings as settings_module
from switchboard.runtime.instance import AlreadyRunning, acquire, clean_up_after_crash
from switchboard.runtime.processes import ProcessMark
from switchboard.settings import read_runtime


def test_a_held_home_refuses_a_second_up_and_names_the_first(tmp_path: Path) -> None:
    first = acquire(tmp_path)
    with pytest.raises(AlreadyRunning) as refused:
        acquire(tmp_path)
    assert refused.value.pid == os.getpid()
    first.release()

    again = acquire(tmp_path)
    assert again.previous_pid == os.getpid()
    again.release()


def test_a_clean_home_has_nothing_to_report(tmp_path: Path) -> None:
    instance = acquire(tmp_path)
    assert clean_up_after_crash(instance).summary() is None
    instance.release()


def test_leftovers_are_stopped_by_mark_and_the_records_dropped(tmp_path: Path) -> None:
    leftover = subprocess.Popen(["sleep", "60"])
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        left, other = ProcessMark.of(leftover.pid), ProcessMark.of(bystander.pid)
        assert left and other
        # The bystander's PID under another start time: a process that has since ended.
        ended = {**other.to_json(), "start_ticks": other.start_ticks - 1}
        record = {"processes": {"worker": left.to_json(), "api": ended, "broker": "junk"}}
        (tmp_path / "processes.json").write_bytes(orjson.dumps(record))
        (tmp_path / "runtime.json").write_bytes(b"{")

        instance = acquire(tmp_path)
        leftovers = clean_up_after_crash(instance)
        instance.release()

        assert leftovers.stopped == [f"worker (pid {leftover.pid})"]
        assert leftover.wait(timeout=10) < 0
        assert bystander.poll() is None
        assert not (tmp_path / "runtime.json").exists()
        assert not (tmp_path / "processes.json").exists()
    finally:
        for process in (leftover, bystander):
            process.kill()
            process.wait()


def test_commands_ignore_the_runtime_file_of_an_up_that_died(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    path = tmp_path / "runtime.json"
    monkeypatch.setattr(settings_module, "RUNTIME_FILE", path)
    runtime = {"kafka_bootstrap_servers": "127.0.0.1:19092"}

    path.write_bytes(orjson.dumps({**runtime, "pid": ended.pid}))
    assert read_runtime() == {}

    path.write_bytes(orjson.dumps({**runtime, "pid": os.getpid()}))
    assert read_runtime()["kafka_bootstrap_servers"] == "127.0.0.1:19092"
