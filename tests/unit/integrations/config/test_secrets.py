"""Secrets at rest: encrypted with the configured key, tagged, masked to their last 4."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.config.secrets import (
    PREFIX,
    SecretBox,
    SecretKeyMissing,
    SecretUnreadable,
    ensure_key_file,
    generate_key,
    mask,
)
from switchboard import settings

KEY = generate_key()


@given(st.text(max_size=300))
def test_any_secret_comes_back_as_it_went_in(plain: str) -> None:
    box = SecretBox(KEY)
    stored = box.encrypt(plain)

    assert stored.startswith(PREFIX)
    assert box.decrypt(stored) == plain


def test_the_stored_form_never_contains_the_secret_and_differs_each_time() -> None:
    box = SecretBox(KEY)
    first, second = box.encrypt("sk-live-abcdef123456"), box.encrypt("sk-live-abcdef123456")

    assert "abcdef123456" not in first
    assert first != second


def test_a_key_is_accepted_as_text_or_bytes_with_surrounding_whitespace() -> None:
    stored = SecretBox(KEY).encrypt("x")

    assert SecretBox(f" {KEY}\n".encode()).decrypt(stored) == "x"


def test_a_malformed_key_is_refused_without_being_echoed() -> None:
    with pytest.raises(ValueError, match="not a Fernet key") as refused:
        SecretBox("not-a-key-hunter2")

    assert "hunter2" not in str(refused.value)


def test_another_key_or_a_plaintext_value_cannot_be_read() -> None:
    stored = SecretBox(KEY).encrypt("x")

    with pytest.raises(SecretUnreadable):
        SecretBox(generate_key()).decrypt(stored)
    with pytest.raises(SecretUnreadable):
        SecretBox(KEY).decrypt("plain-value")


def test_without_a_key_storing_or_reading_a_secret_says_how_to_configure_one() -> None:
    box = SecretBox(None)

    assert not box.has_key
    with pytest.raises(SecretKeyMissing, match="SWITCHBOARD_SECRET_KEY"):
        box.encrypt("x")
    with pytest.raises(SecretKeyMissing):
        box.decrypt(PREFIX + "whatever")


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        (None, None),
        ("", "****"),
        ("abc", "****"),
        ("1234567", "****"),
        ("12345678", "****5678"),
        ("sk-live-abcdef123456", "****3456"),
    ],
)
def test_a_masked_secret_shows_at_most_its_last_4(secret: str | None, shown: str | None) -> None:
    assert mask(secret) == shown


def test_the_key_file_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"

    key = ensure_key_file(path)

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ensure_key_file(path) == key
    SecretBox(key).encrypt("usable")


def test_a_damaged_key_file_is_reported_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("garbage\n")

    with pytest.raises(RuntimeError, match="holds no Fernet key"):
        ensure_key_file(path)
    assert path.read_text() == "garbage\n"


def test_the_key_reaches_each_process_from_the_environment_or_ups_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWITCHBOARD_SECRET_KEY", raising=False)
    monkeypatch.setattr(settings, "SECRET_KEY_FILE", tmp_path / "secret.key")
    assert settings.load_settings().secret_key is None

    key = ensure_key_file(tmp_path / "secret.key")
    loaded = settings.load_settings()

    assert loaded.secret_key == key
    assert key not in repr(loaded)
    assert settings.settings_environment(loaded)["SWITCHBOARD_SECRET_KEY"] == key
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", KEY)
    assert settings.load_settings().secret_key == KEY
