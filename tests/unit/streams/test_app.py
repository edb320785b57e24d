"""streams.app builds the worker's App on first use: importing it patches nothing, creates no
folder and builds no App, and `faust -A streams.app` still finds one App, built once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.paths import REPO

_IMPORT_ONLY = """
import streams.app
from faust.transport.consumer import Consumer
assert not getattr(Consumer, "_switchboard_fixes_applied", False), "Faust patched on import"
assert streams.app._app is None, "App built on import"
"""

_FIRST_USE = """
import faust
import streams.app
from faust.cli.base import find_app
app = find_app("streams.app")
assert isinstance(app, faust.App)
assert streams.app.app is app is streams.app.worker_app(), "App built more than once"
"""


def _run(code: str, home: Path) -> None:
    env = {**os.environ, "SWITCHBOARD_HOME": str(home)}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_importing_the_app_module_builds_nothing(tmp_path: Path) -> None:
    _run(_IMPORT_ONLY, tmp_path / "home")
    assert not (tmp_path / "home").exists()


def test_faust_finds_one_app_built_on_first_use(tmp_path: Path) -> None:
    _run(_FIRST_USE, tmp_path / "home")
    assert (tmp_path / "home" / "faust").is_dir()
