"""The calls a worker keeps folded in memory between batches (sinks.entity_cache).

A call is kept while it is open, as PostgreSQL holds it after the batch that wrote it: its
call_events (with their calls.id and event_sequence) and its folded rows. The next batch that
touches it folds the new events into these instead of reading and parsing every stored event
again (extending the fold where they come after it, streams.telephony.calls.extend_fold), and
upserts only the rows that changed. A call that hung up is dropped: it rarely gets
another event, and should it, a miss is just the read from PostgreSQL. That also keeps the one
other writer of call_events away from kept calls: the retention thins only calls that hung up
(sinks.telephony.calls_retention).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sinks.entity_cache import EntityCache
from streams.telephony.calls import CallEvent, FoldedCall

# Open calls at once on a busy PBX are in the thousands; a call is a few KiB.
MAX_OPEN_CALLS = 50_000


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A call_events row: its calls.id and event_sequence, where set, and the event."""

    call_id: int | None
    sequence: int | None
    event: CallEvent


@dataclass(frozen=True, slots=True)
class OpenCall:
    # Its calls.id.
    call_id: int
    # Its call_events rows are exactly `folded.events`, numbered from 1 under `call_id`.
    folded: FoldedCall


OpenCalls = EntityCache[str, OpenCall]


def open_calls(max_calls: int = MAX_OPEN_CALLS) -> OpenCalls:
    return EntityCache(max_calls)


def kept_call(call_id: int, folded: FoldedCall) -> OpenCall | None:
    """What to keep of a call just written as `folded` under calls.id `call_id`: nothing once
    it hung up."""
    if folded.call.end_time is not None:
        return None
    # The write deleted the superseded events: what is kept is the fold of the stored ones.
    if folded.superseded:
        folded = replace(folded, superseded=())
    return OpenCall(call_id, folded)
