"""Every log line is one JSON object with its level and time: ours, any library's, and Faust's
when Faust sets logging up itself."""

from __future__ import annotations

import logging
import logging.config
import warnings
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
import pytest
import structlog

from switchboard.logging import configure_logging, faust_logging_config


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("aiokafka", "mode")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    logging.captureWarnings(False)
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


def lines_of(err: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in err.splitlines()]


def assert_stamped(line: dict[str, Any]) -> None:
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None


def test_a_library_record_is_one_json_line_with_level_time_and_bound_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    structlog.contextvars.bind_contextvars(call_id="c-1")

    logging.getLogger("aiokafka.consumer").warning("heartbeat failed for %s", "group-1")

    [line] = lines_of(capsys.readouterr().err)
    assert line["event"] == "heartbeat failed for group-1"
    assert line["level"] == "warning"
    assert line["logger"] == "aiokafka.consumer"
    assert line["call_id"] == "c-1"
    assert_stamped(line)


def test_our_lines_and_python_warnings_are_json_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")

    structlog.get_logger("switchboard.test").info("batch written", rows=3)
    warnings.warn("an old API", UserWarning, stacklevel=1)

    ours, warned = lines_of(capsys.readouterr().err)
    assert (ours["event"], ours["level"], ours["rows"]) == ("batch written", "info", 3)
    assert warned["level"] == "warning" and "an old API" in warned["event"]
    assert_stamped(ours)
    assert_stamped(warned)


def test_a_chatty_library_s_routine_is_left_out_and_its_warnings_are_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")

    logging.getLogger("aiokafka").info("partition table")
    logging.getLogger("aiokafka").error("cannot connect")

    assert [line["event"] for line in lines_of(capsys.readouterr().err)] == ["cannot connect"]


def test_faust_setting_logging_up_itself_installs_ours(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What mode does for `faust -A streams.app worker`, given the app's `logging_config`.
    logging.config.dictConfig(faust_logging_config("INFO"))

    logging.getLogger("mode.worker").warning("worker stopping")

    [line] = lines_of(capsys.readouterr().err)
    assert (line["event"], line["level"], line["logger"]) == (
        "worker stopping",
        "warning",
        "mode.worker",
    )
    assert_stamped(line)
