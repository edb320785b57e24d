"""A created deal asks MediaPush for a media plan when the second of its creation and its brief
is stored, whichever came first, and never again."""

from __future__ import annotations

from dataclasses import replace

import orjson
from hypothesis import given
from hypothesis import strategies as st

from sinks.integrations.briefs import mediaplan_requests
from sinks.integrations.outbox import MediaplanRequest
from streams.masterdeal.events import DealEvent
from streams.masterdeal.fold import DealState, fold_deals
from streams.masterdeal.sla_policy import SlaPolicy
from tests.support.deals import DEAL_ID, PIPELINE

BRIEF = '{"budget": 1200000, "channels": ["tv", "digital"]}'
DEAL = [replace(e, payload=BRIEF) if e.event_type == "crm.brief.submitted" else e for e in PIPELINE]
CREATED, BRIEFED = DEAL[0], DEAL[1]


def states(events: list[DealEvent]) -> list[DealState]:
    return [s for s in fold_deals(events, sla=SlaPolicy(), now=DEAL[-1].occurred_at) if s.stage]


def requests(stored: list[DealEvent], new: list[DealEvent]) -> list[MediaplanRequest]:
    created = states([*stored, *new])
    return mediaplan_requests(created, ["0367"] * len(created), {e.event_key for e in stored})


def test_the_brief_of_a_created_deal_asks_once() -> None:
    [request] = requests([CREATED], [BRIEFED])
    assert request.enterprise_id == "0367"
    assert request.deal_id == DEAL_ID
    assert request.correlation_id == "corr-1042"
    assert request.master_deal_id
    assert orjson.loads(orjson.dumps(request.payload())) == {
        "deal_id": DEAL_ID,
        "master_deal_id": request.master_deal_id,
        "correlation_id": "corr-1042",
        "brief": {"budget": 1200000, "channels": ["tv", "digital"]},
    }


def test_a_brief_stored_before_its_deal_asks_at_the_creation() -> None:
    assert requests([], [BRIEFED]) == []
    assert len(requests([BRIEFED], [CREATED])) == 1


def test_later_events_of_a_briefed_deal_ask_nothing() -> None:
    assert requests(DEAL[:2], DEAL[2:]) == []
    assert requests([CREATED], DEAL[2:3]) == []


@given(st.sets(st.integers(0, len(DEAL) - 1)))
def test_the_request_is_due_exactly_when_the_pair_completes(stored_at: set[int]) -> None:
    stored = [e for i, e in enumerate(DEAL) if i in stored_at]
    new = [e for i, e in enumerate(DEAL) if i not in stored_at]
    due = len(requests(stored, new)) == 1
    assert due == (not {0, 1} <= stored_at)


def test_a_brief_that_is_not_json_goes_as_its_text() -> None:
    request = MediaplanRequest("0367", DEAL_ID, None, None, "plain words")
    assert request.payload()["brief"] == "plain words"
    assert MediaplanRequest("0367", DEAL_ID, None, None, None).payload()["brief"] is None
