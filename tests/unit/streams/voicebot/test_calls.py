"""The newest version of a call wins whatever the order, duplicates included."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.voicebot.calls import newest, supersedes
from streams.voicebot.events import BotCallEvent
from tests.unit.schemas.voicebot_records import NOW, VOICEBOT_VALID


def version(key: str, seconds: int, **changes: object) -> BotCallEvent:
    record = {**VOICEBOT_VALID["voicebot.calls"], **changes}
    record["occurred_at"] = NOW + timedelta(seconds=seconds)
    return BotCallEvent.from_record(key, record)


START = version("k-start", 0, ended_at=None, quality_score=None)
END = version("k-end", 180)
TIE = version("k-zzz", 180, quality_score=0.1)


def test_the_end_wins_over_the_start_and_a_late_start_changes_nothing() -> None:
    assert newest([START, END]) is END
    assert newest([END, START]) is END
    assert supersedes(END, START) and not supersedes(START, END) and supersedes(START, None)


def test_a_tie_on_time_goes_to_the_larger_event_key() -> None:
    assert newest([TIE, END]) is TIE and newest([END, TIE]) is TIE
    assert not supersedes(END, TIE) and not supersedes(TIE, TIE)


def test_no_version_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one"):
        newest([])


@given(st.lists(st.sampled_from([START, END, TIE]), min_size=1), st.randoms())
def test_the_winner_depends_only_on_the_set_of_versions(
    versions: list[BotCallEvent], rnd: random.Random
) -> None:
    shuffled = list(versions)
    rnd.shuffle(shuffled)
    expected = max(set(versions), key=lambda v: (v.occurred_at, v.event_key))
    assert newest(versions) == newest(shuffled + versions) == expected
