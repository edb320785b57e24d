"""Which registry credential a command uses, and how `token list` shows tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from api.auth import TokenInfo
from switchboard import settings as settings_module
from switchboard.cli.tokens import tokens_json, tokens_table
from switchboard.settings import Settings, load_settings

UP_CREDENTIAL = "switchboard:sbt_service"


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A runtime file as `switchboard up` publishes it, and an environment without settings."""
    for name in ("SCHEMA_REGISTRY_URL", "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"SWITCHBOARD_{name}", raising=False)
    path = tmp_path / "runtime.json"
    path.write_bytes(
        orjson.dumps(
            {
                "api_port": 8181,
                "schema_registry_url": None,
                "schema_registry_basic_auth_user_info": UP_CREDENTIAL,
            }
        )
    )
    monkeypatch.setattr(settings_module, "RUNTIME_FILE", path)
    return path


def test_a_command_beside_up_uses_its_registry_and_service_credential(runtime: Path) -> None:
    settings = load_settings()

    assert settings.registry_client_config == {
        "url": "http://127.0.0.1:8181/schema-registry",
        "basic.auth.user.info": UP_CREDENTIAL,
    }


def test_up_s_credential_is_never_sent_to_another_registry(runtime: Path) -> None:
    settings = load_settings(schema_registry_url="https://registry.example.com")

    assert settings.registry_client_config == {"url": "https://registry.example.com"}


def test_a_configured_credential_wins(runtime: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "me:secret")

    assert load_settings().schema_registry_basic_auth_user_info == "me:secret"


def test_the_credential_has_confluent_s_name_and_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", raising=False)
    monkeypatch.setenv("SWITCHBOARD_SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "u:p")

    settings = Settings()

    assert settings.schema_registry_basic_auth_user_info == "u:p"
    assert "u:p" not in repr(settings)


TOKENS = [
    TokenInfo(
        1, "dashboard", ["e1", "e2"], False, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), None, None
    ),
    TokenInfo(
        2,
        None,
        [],
        True,
        datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        datetime(2026, 12, 2, 10, 30, 5, tzinfo=UTC),
        datetime(2026, 12, 3, tzinfo=UTC),
    ),
]


def test_the_token_table_has_every_column() -> None:
    header, first, second = tokens_table(TOKENS).splitlines()

    assert header.startswith("ID") and header.endswith("REVOKED")
    for column in ("NAME", "ENTERPRISES", "ADMIN", "CREATED", "LAST USED"):
        assert f"  {column}  " in header
    assert first.split()[:4] == ["1", "dashboard", "e1,e2", "no"]
    assert first.rstrip().endswith("-")
    assert second.split()[:4] == ["2", "-", "-", "yes"]
    assert "2026-12-02 10:30:05Z" in second


def test_token_json_gives_times_in_utc_iso_8601() -> None:
    listed = orjson.loads(tokens_json(TOKENS))

    assert listed[1] == {
        "id": 2,
        "name": None,
        "enterprises": [],
        "admin": True,
        "createdAt": "2026-12-01T09:00:00Z",
        "lastUsedAt": "2026-12-02T10:30:05Z",
        "revokedAt": "2026-12-03T00:00:00Z",
    }
