"""`switchboard simulate`'s options: what runs by default, how a day and `--speed 0` map to
simulated time, and the combinations refused before anything is published."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from switchboard.cli.main import main
from switchboard.simulation.contact_centre import CentreConfig, ContactCentre
from switchboard.simulation.runner import SimulationOptions, build_timeline

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_a_day_starts_at_its_midnight_and_runs_the_contact_centre_alone() -> None:
    options = SimulationOptions(
        duration=60, rate=20, seed=7, scenarios=("contact-centre",), day=date(2026, 11, 20)
    )
    timeline, sources = build_timeline(options, options.start_time(NOW))

    assert options.start_time(NOW) == datetime(2026, 11, 20, tzinfo=UTC)
    assert options.simulated_seconds == 86400
    assert [type(s) for s in sources] == [ContactCentre]
    assert options.centre_config == CentreConfig()  # a day's everyday traffic
    first = next(iter(timeline))
    assert first.record["occurred_at"] == datetime(2026, 11, 20, tzinfo=UTC)


def test_unpaced_the_whole_run_calls_in_flight_included_ends_now() -> None:
    options = SimulationOptions(duration=30, rate=2, seed=1, speed=0)

    assert not options.paced
    assert options.simulated_seconds == 30
    timeline, _ = build_timeline(options, options.start_time(NOW))
    events = list(timeline)
    assert 20 < sum(1 for e in events if e.record.get("event_type") == "start") < 120
    assert options.start_time(NOW) < NOW - timedelta(seconds=30)
    assert max(e.record["occurred_at"] for e in events) <= NOW


def test_a_live_contact_centre_is_busier_than_a_days_average() -> None:
    options = SimulationOptions(duration=30, rate=2, seed=1, scenarios=("contact-centre",))
    assert options.centre_config.calls_per_hour > CentreConfig().calls_per_hour


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (["--speed", "-1"], "--speed must not be negative"),
        (["--duration", "0"], "--duration must be positive"),
        (["--day", "2026-11-20", "--scenario", "deals"], "--day simulates the contact centre"),
        (["--scenario", "deals", "--expected", "t.json"], "needs the contact-centre scenario"),
        (["--expected", "t.json"], "without the calls scenario"),
        (["--day", "2026-11-20", "--queues", "0"], "queues must be at least 1"),
        (["--day", "2026-11-20", "--agents", "0"], "agents must be at least 1"),
        (["--calls-per-hour", "-5"], "--calls-per-hour must not be negative"),
        (["--day", "2026-11-20", "--expected", "/no/such/dir/t.json"], "no directory"),
    ],
)
def test_combinations_that_cannot_run_are_refused_up_front(
    flags: list[str], reason: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        main,
        ["simulate", "--kafka-bootstrap-servers", "127.0.0.1:1", *flags],
        env={"SWITCHBOARD_HOME": str(tmp_path)},
    )
    assert result.exit_code == 2, result.output
    assert reason in result.output
