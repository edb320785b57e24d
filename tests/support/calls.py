"""One answered ring-group call as the fold sees it (CallEvents), its downloaded copy, and the
queries that read back every table the call sink writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from streams.telephony.calls import CallEvent
from tests.support.clock import T0


def event(seq: int, event_type: str, at: float, **fields: object) -> CallEvent:
    base = CallEvent(
        event_key=f"asterisk:e{seq}",
        source_system="asterisk",
        event_id=f"e{seq}",
        occurred_at=T0 + timedelta(seconds=at),
        enterprise_id="0367",
        call_id="1749034247.6528",
        event_type=event_type,
        call_type="incoming",
        data_source="live",
        phone_number="+79990001122",
        trunk="SIP/trunk1",
        asterisk_host="10.88.10.21",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


RING_GROUP_ANSWERED = [
    event(1, "start", 0),
    event(2, "dial", 1, extensions=("150", "151", "162")),
    event(3, "bridge", 9, extension="151"),
    event(4, "hangup", 70, extension="151", call_status="answered"),
]

DOWNLOADED = [
    replace(e, event_key=f"asterisk:d{i}", event_id=f"d{i}", data_source="downloaded")
    for i, e in enumerate(RING_GROUP_ANSWERED)
]

SNAPSHOT = {
    "calls": """SELECT unique_id, start_time, end_time, duration, enterprise_id, phone_number,
        trunk, main_extension, extensions_count, call_type, call_status, data_source,
        asterisk_host, raw_data FROM calls ORDER BY unique_id""",
    "participants": """SELECT c.unique_id, p.extension, p.participant_status, p.ring_order,
        p.ring_duration, p.dial_start, p.answer_time, p.hangup_time, p.disconnect_reason
        FROM call_participants p JOIN calls c ON c.id = p.call_id ORDER BY 1, 2""",
    "events": """SELECT e.event_key, c.unique_id, e.event_type, e.event_sequence,
        e.event_timestamp, e.data_source, e.processed, e.needs_telegram, e.needs_integration,
        e.raw_data FROM call_events e JOIN calls c ON c.id = e.call_id ORDER BY 1""",
    "download_sync": """SELECT enterprise_id, asterisk_host, total_downloaded_events,
        last_successful_sync FROM download_sync ORDER BY 1, 2""",
}
