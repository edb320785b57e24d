"""The posted interaction's one definition: what it refuses, which mistake it names first, and
that the document the API serves describes exactly what it accepts."""

from __future__ import annotations

from typing import Any

import pytest

from streams.contact_centre.interaction_post import (
    InteractionPost,
    InvalidInteraction,
    parse_interaction_post,
)

ITEM = {"external_id": "x-1", "enterprise_id": "0367", "channel": "voice"}


def refusal(item: Any) -> tuple[str, str]:
    with pytest.raises(InvalidInteraction) as caught:
        parse_interaction_post(item)
    return caught.value.field, caught.value.reason


def test_a_required_field_given_as_null_is_missing() -> None:
    assert refusal({**ITEM, "channel": None}) == ("channel", "required field is missing")


def test_an_unknown_field_is_named_before_any_other_mistake() -> None:
    assert refusal({"zeta": 1, "alpha": 2, "channel": 5}) == ("alpha", "unknown field")


def test_the_first_field_in_declared_order_is_named() -> None:
    item = {"channel": "", "external_id": 7, "started_at": "soon"}
    assert refusal(item) == ("external_id", "expected a string, got a number")


def test_null_optional_fields_and_attributes_are_absent() -> None:
    post = parse_interaction_post({**ITEM, "queue_id": None, "attributes": None})
    assert (post.queue_id, post.attributes) == (None, {})


def test_the_document_lists_the_fields_it_accepts_and_refuses_others() -> None:
    schema = InteractionPost.model_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["external_id", "enterprise_id", "channel"]
    assert set(schema["properties"]) == set(InteractionPost.model_fields)
