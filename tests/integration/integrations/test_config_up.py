"""`switchboard up` generates the integration secret key once, keeps it private in its home,
and hands the same key to every process it starts, run after run."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.config.secrets import SecretBox
from tests.support.up import start_up, stop_up

pytestmark = pytest.mark.integration


def switchboard_children_environments(pid: int) -> list[dict[str, str]]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    environments = []
    for child in children:
        if b"switchboard" not in Path(f"/proc/{child}/cmdline").read_bytes():
            continue  # the embedded database's server, say
        raw = Path(f"/proc/{child}/environ").read_bytes()
        pairs = (entry.partition(b"=") for entry in raw.split(b"\0") if entry)
        environments.append({k.decode(): v.decode(errors="replace") for k, _, v in pairs})
    return environments


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads children from /proc")
def test_up_generates_one_private_key_and_passes_it_to_every_child(
    fresh_broker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWITCHBOARD_SECRET_KEY", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    up, _ = start_up(home, fresh_broker)
    try:
        key_file = home / "secret.key"
        key = key_file.read_text().strip()
        SecretBox(key)  # a usable Fernet key
        assert key_file.stat().st_mode & 0o777 == 0o600
        children = switchboard_children_environments(up.pid)
        assert children
        assert {child.get("SWITCHBOARD_SECRET_KEY") for child in children} == {key}
    finally:
        _, err = stop_up(up, home)
    assert key not in err

    up, _ = start_up(home, fresh_broker)
    try:
        assert key_file.read_text().strip() == key
        children = switchboard_children_environments(up.pid)
        assert {child.get("SWITCHBOARD_SECRET_KEY") for child in children} == {key}
    finally:
        stop_up(up, home)
