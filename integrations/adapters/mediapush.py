"""MediaPush (seed 001, 7.6 step 2): once a deal's brief is submitted, ask for a media plan.

    POST {url}/api/mediaplan/request   JSON: the delivery's payload (deal_id, master_deal_id,
                                       the brief, correlation_id)

with `Idempotency-Key` (one per deal, the same on every attempt) and `Authorization: Bearer
<api_key>` when a key is configured. No call event is ever sent here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from integrations.adapters import answers
from integrations.adapters.base import (
    MEDIAPLAN_REQUEST,
    CallFacts,
    Delivery,
    HttpRequest,
    Verdict,
    join_url,
)
from integrations.config.models import MediaPushConfig

MEDIAPLAN_PATH = "/api/mediaplan/request"


class MediaPushAdapter:
    type = "mediapush"

    def requests(
        self, delivery: Delivery, config: Any, facts: CallFacts | None
    ) -> Sequence[HttpRequest]:
        if not isinstance(config, MediaPushConfig):
            raise TypeError(f"a MediaPush delivery needs a MediaPushConfig, not {type(config)}")
        if delivery.event_type != MEDIAPLAN_REQUEST or delivery.payload is None:
            return ()
        headers = {"Idempotency-Key": delivery.idempotency_key}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        return (
            HttpRequest(
                "POST",
                join_url(config.url, MEDIAPLAN_PATH),
                headers=headers,
                json=dict(delivery.payload),
                secrets=(config.api_key,) if config.api_key else (),
            ),
        )

    def judge(self, status: int, headers: Mapping[str, str], body: bytes) -> Verdict:
        return answers.by_status(status, headers, answers.body_text(body) or None)


ADAPTER = MediaPushAdapter()
