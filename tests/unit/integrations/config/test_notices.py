"""What the cache makes of a notification on `integrations_config`."""

from __future__ import annotations

import pytest

from integrations.config.cache import parse_notice


def test_a_notice_names_its_enterprise_and_type() -> None:
    assert parse_notice('{"enterprise_id": "0367", "type": "retailcrm"}') == ("0367", "retailcrm")


@pytest.mark.parametrize(
    "payload", ["", "not json", "[]", '{"type": "retailcrm"}', '{"enterprise_id": 367}']
)
def test_an_unreadable_notice_names_nothing(payload: str) -> None:
    assert parse_notice(payload) is None


def test_a_notice_without_a_readable_type_still_names_its_enterprise() -> None:
    assert parse_notice('{"enterprise_id": "0367", "type": 1}') == ("0367", None)
