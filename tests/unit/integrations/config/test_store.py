"""A PUT body becomes a config (secrets kept when omitted or sent back masked); a config is
stored with its secrets encrypted and shown with them masked."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import HttpUrl, ValidationError

from integrations.config.models import (
    AnyIntegrationConfig,
    MediaPushConfig,
    RetailCrmConfig,
    TelegramConfig,
    WebhookConfig,
)
from integrations.config.secrets import SecretBox, SecretKeyMissing, generate_key
from integrations.config.store import (
    ConfigUnreadable,
    UnknownIntegrationType,
    decode,
    decode_all,
    describe_errors,
    encode,
    masked,
    parse_config,
)

BOX = SecretBox(generate_key())
API_KEY = "rcrm-key-0123456789abcdef"
RETAILCRM = {
    "api_url": "https://demo.retailcrm.ru",
    "api_key": API_KEY,
    "user_mappings": {"151": 7},
    "events": ["dial", "hangup"],
}


def retailcrm(**changes: Any) -> RetailCrmConfig:
    config = parse_config("retailcrm", {**RETAILCRM, **changes}, previous=None)
    assert isinstance(config, RetailCrmConfig)
    return config


def test_a_body_is_validated_and_defaults_are_filled_in() -> None:
    config = retailcrm()

    assert config.type == "retailcrm"
    assert config.api_key == API_KEY
    assert config.events == ("dial", "hangup")
    assert (config.enabled, config.timeout_sec, config.max_attempts) == (True, 3.0, 5)


def test_a_secret_omitted_keeps_the_previous_one() -> None:
    body = {k: v for k, v in RETAILCRM.items() if k != "api_key"}

    config = parse_config("retailcrm", {**body, "enabled": False}, previous=retailcrm())

    assert isinstance(config, RetailCrmConfig)
    assert (config.api_key, config.enabled) == (API_KEY, False)


def test_a_secret_sent_back_masked_keeps_the_previous_one() -> None:
    previous = retailcrm()
    shown = masked(previous)

    config = parse_config("retailcrm", shown, previous=previous)

    assert config == previous


def test_a_new_secret_replaces_the_previous_one() -> None:
    config = parse_config("retailcrm", {**RETAILCRM, "api_key": "new-key"}, previous=retailcrm())

    assert isinstance(config, RetailCrmConfig)
    assert config.api_key == "new-key"


@pytest.mark.parametrize("previous", [None, "retailcrm-with-another-key"])
def test_a_masked_value_that_matches_no_stored_secret_is_refused(previous: str | None) -> None:
    before = retailcrm(api_key="other-key-99999999") if previous else None

    with pytest.raises(ValidationError) as refused:
        parse_config("retailcrm", {**RETAILCRM, "api_key": "****cdef"}, previous=before)

    assert describe_errors(refused.value).startswith("api_key: a masked value")


def test_a_secret_omitted_with_nothing_stored_is_missing() -> None:
    body = {k: v for k, v in RETAILCRM.items() if k != "api_key"}

    with pytest.raises(ValidationError) as refused:
        parse_config("retailcrm", body, previous=None)

    assert describe_errors(refused.value) == "api_key: Field required"


def test_a_previous_config_of_another_type_lends_no_secret() -> None:
    hook = parse_config("webhook", {"url": "https://h.example/x", "secret": "whsec_abc"})

    with pytest.raises(ValidationError):
        parse_config("retailcrm", {"api_url": "https://x.example"}, previous=hook)


def test_validation_messages_name_each_field_and_never_quote_the_input() -> None:
    body = {**RETAILCRM, "api_url": "not a url", "events": ["dial", "ring"], "colour": "red"}

    with pytest.raises(ValidationError) as refused:
        parse_config("retailcrm", {**body, "rate_limit_per_sec": 0}, previous=None)
    message = describe_errors(refused.value)

    for field in ("api_url:", "events.1:", "colour:", "rate_limit_per_sec:"):
        assert field in message
    assert "not a url" not in message and "red" not in message


def test_a_body_naming_another_type_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        parse_config("retailcrm", {**RETAILCRM, "type": "webhook"}, previous=None)

    assert describe_errors(refused.value).startswith("type:")


def test_an_unknown_type_is_a_key_error_that_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as refused:
        parse_config("amocrm", {}, previous=None)

    assert isinstance(refused.value, UnknownIntegrationType)
    assert "retailcrm" in str(refused.value)


def test_the_shown_form_is_json_ready_with_every_secret_masked() -> None:
    configs: list[AnyIntegrationConfig] = [
        retailcrm(),
        WebhookConfig(url=HttpUrl("https://h.example/in"), secret="whsec_c2VjcmV0LXNlY3JldA=="),
        TelegramConfig(bot_token="123456:ABCdefGHIjkl", chat_id="-100200"),
        MediaPushConfig(url=HttpUrl("https://mp.example"), api_key="mp-key-12345678"),
        MediaPushConfig(url=HttpUrl("https://mp.example")),
    ]
    for config in configs:
        shown = masked(config)
        text = orjson.dumps(shown).decode()

        assert shown["type"] == config.type
        for secret in ("0123456789abcdef", "LXNlY3JldA", "ABCdefGH", "mp-key"):
            assert secret not in text
    assert masked(configs[0])["api_key"] == "****cdef"
    assert masked(configs[-1])["api_key"] is None


def test_the_stored_form_holds_every_key_and_no_plaintext_secret() -> None:
    config = retailcrm()

    stored = encode(config, BOX)

    assert set(stored) == set(RetailCrmConfig.model_fields)
    assert stored["events"] == ["dial", "hangup"] and stored["enabled"] is True
    assert API_KEY not in orjson.dumps(stored).decode()
    assert decode("0367", "retailcrm", stored, BOX) == config


def test_an_optional_secret_left_unset_stays_unset_through_the_store() -> None:
    config = MediaPushConfig(url=HttpUrl("https://mp.example"))

    stored = encode(config, BOX)

    assert stored["api_key"] is None
    assert decode("0367", "mediapush", stored, BOX) == config


def test_a_stored_config_the_key_cannot_read_is_reported_with_its_tenant_and_type() -> None:
    stored = encode(retailcrm(), SecretBox(generate_key()))

    with pytest.raises(ConfigUnreadable, match="retailcrm of enterprise 0367"):
        decode("0367", "retailcrm", stored, BOX)


def test_stored_keys_of_unknown_types_are_ignored() -> None:
    document = {"retailcrm": encode(retailcrm(), BOX), "amocrm": {"enabled": True}}

    assert set(decode_all("0367", document, BOX)) == {"retailcrm"}


def test_without_a_key_a_config_with_a_secret_can_be_neither_stored_nor_read() -> None:
    stored = encode(retailcrm(), BOX)

    with pytest.raises(SecretKeyMissing):
        encode(retailcrm(), SecretBox(None))
    with pytest.raises(SecretKeyMissing):
        decode("0367", "retailcrm", stored, SecretBox(None))


def test_without_a_key_a_config_without_secrets_still_works() -> None:
    config = MediaPushConfig(url=HttpUrl("https://mp.example"))

    assert decode("0367", "mediapush", encode(config, SecretBox(None)), SecretBox(None)) == config
