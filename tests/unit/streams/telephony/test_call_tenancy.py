"""A call belongs to one tenant for good: its first event fixes it; another tenant's events for
the same call_id are refused, whatever batch they arrive in."""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from streams.telephony.calls import foreign_tenant_events
from tests.support.calls import RING_GROUP_ANSWERED, event

START, DIAL, BRIDGE, HANGUP = RING_GROUP_ANSWERED


def test_events_of_the_calls_own_tenant_are_all_kept() -> None:
    assert foreign_tenant_events(RING_GROUP_ANSWERED, {}) == {}


def test_a_stored_call_keeps_its_tenant_against_a_stranger() -> None:
    stranger = replace(HANGUP, event_key="asterisk:x1", event_id="x1", enterprise_id="9001")

    refused = foreign_tenant_events([stranger, BRIDGE], {START.call_id: "0367"})

    assert list(refused) == [0]
    assert "belongs to enterprise '0367', not '9001'" in refused[0]


def test_a_new_call_takes_the_tenant_of_its_first_event_in_the_batch() -> None:
    stranger = event(9, "dial", 2, enterprise_id="9001")

    assert list(foreign_tenant_events([START, stranger, HANGUP], {})) == [1]
    assert list(foreign_tenant_events([stranger, START, HANGUP], {})) == [1, 2]


@given(cuts=st.sets(st.integers(1, 4), max_size=3))
def test_cutting_the_stream_into_batches_never_changes_what_is_refused(cuts: set[int]) -> None:
    stranger = event(9, "dial", 2, enterprise_id="9001")
    stream = [START, stranger, DIAL, BRIDGE, HANGUP]
    whole = set(foreign_tenant_events(stream, {}))

    known: dict[str, str] = {}
    refused: set[int] = set()
    bounds = [0, *sorted(cuts), len(stream)]
    for a, b in itertools.pairwise(bounds):
        refused |= {a + i for i in foreign_tenant_events(stream[a:b], known)}
        known |= {
            e.call_id: e.enterprise_id for i, e in enumerate(stream[a:b], a) if i not in refused
        }

    assert refused == whole == {1}
