"""The /api/kpis filters, as the stream and the API both apply them to records."""

from __future__ import annotations

from dataclasses import dataclass

from streams.contact_centre.queue_sessions import QueueSession
from streams.contact_centre.responses import Response
from streams.telephony.wrapups import WrapUp


@dataclass(frozen=True, slots=True)
class Filter:
    """The /api/kpis filters; None matches anything. A filter on an attribute that a record does
    not carry (a wrap-up without queue_id under a queue filter) does not match it."""

    enterprise_id: str | None = None
    queue_id: str | None = None
    channel: str | None = None
    agent_id: str | None = None

    def matches(self, record: QueueSession | WrapUp | Response) -> bool:
        return all(
            wanted is None or getattr(record, name, None) == wanted
            for name, wanted in (
                ("enterprise_id", self.enterprise_id),
                ("queue_id", self.queue_id),
                ("channel", self.channel),
                ("agent_id", self.agent_id),
            )
        )


# The default of every `where=`: no filter at all.
ANYTHING = Filter()
