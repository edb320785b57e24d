"""Logged requests show secrets by their last 4 characters only, wherever they are."""

from __future__ import annotations

import json

from integrations.adapters.base import HttpRequest
from integrations.adapters.masking import masked, masked_request, masked_text

SECRET = "s3cr3t-api-key-9876"


def test_every_place_a_secret_can_hide() -> None:
    request = HttpRequest(
        "POST",
        f"https://crm.example/bot{SECRET}/send?key={SECRET}",
        headers={"X-API-KEY": SECRET, "Authorization": "Bearer other-token-5555", "X-Trace": "t"},
        form={"event": json.dumps({"echo": SECRET})},
        secrets=(SECRET,),
    )

    logged = masked_request(request)

    assert SECRET not in json.dumps(logged)
    assert logged["url"] == "https://crm.example/bot****9876/send?key=****9876"
    # Credential headers are masked even when the adapter did not declare them.
    assert logged["headers"] == {
        "X-API-KEY": "****9876",
        "Authorization": "****5555",
        "X-Trace": "t",
    }
    assert masked_text(f"echo: {SECRET}", request) == "echo: ****9876"


def test_nested_json_and_keys() -> None:
    value = {"a": [SECRET, {"b": f"x{SECRET}y"}], SECRET: 1, "n": 3}

    assert masked(value, [SECRET]) == {
        "a": ["****9876", {"b": "x****9876y"}],
        "****9876": 1,
        "n": 3,
    }


def test_short_secrets_are_all_stars_and_empty_ones_ignored() -> None:
    assert masked("pin 1234", ["1234", ""]) == "pin ****"
