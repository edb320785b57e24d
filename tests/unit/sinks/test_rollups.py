"""`needs_trim` finds every rollup row that adding a batch's differences leaves unlike a re-sum:
a row with no quarter hour left, or answered-wait counts longer than their longest quarter
hour's (a re-sum is as long as its longest part)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from sinks.contact_centre.rollups import QUEUE_INTERVALS, needs_trim

HOUR = datetime(2026, 11, 20, 10, tzinfo=UTC)
GROUP = {"enterprise_id": "0367", "attribution": "enqueue", "queue_id": "q1", "channel": "voice"}
QUARTERS = range(4)
# Each quarter hour's row: absent (None) or the length of its answered-wait counts.
lengths = st.lists(st.one_of(st.none(), st.integers(0, 8)), min_size=4, max_size=4)


@given(before=lengths, after=lengths, changed=st.sets(st.sampled_from(QUARTERS), min_size=1))
def test_a_row_left_unlike_its_re_sum_is_trimmed(
    before: list[int | None], after: list[int | None], changed: set[int]
) -> None:
    # Only the changed quarter hours differ; the rest were rewritten as they were.
    after = [after[q] if q in changed else before[q] for q in QUARTERS]
    stored = [n for n in before if n is not None]
    taken = [n for n in (before[q] for q in changed) if n is not None]
    added = [n for n in (after[q] for q in changed) if n is not None]
    if not taken and not added:
        return  # nothing changed: the statement returns no row
    # The row as the difference leaves it: parts, and the counts' length (never shorter).
    left = (len(stored) - len(taken) + len(added), max([*stored, *added], default=0))
    remaining = [n for n in after if n is not None]
    re_summed = (len(remaining), max(remaining, default=0))
    row = {
        **GROUP,
        "grain": "1h",
        "bucket_start": HOUR,
        "parts_left": left[0],
        "kept_len": left[1],
        "taken_len": max(taken) if taken else None,
        "added_len": max(added) if added else None,
    }

    trims = needs_trim(QUEUE_INTERVALS, [row])

    if left != re_summed:
        assert trims["1h"] == {("0367", "q1", HOUR)}
    assert not trims["1d"]
