"""The house's layout (issue 10): every folder says what lives there and what it may import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.paths import REPO

TOP_LEVEL = (
    "switchboard",
    "schemas",
    "streams",
    "sinks",
    "api",
    "integrations",
    "ops",
    "migrations",
    "bench",
    "tests",
)
# Alembic revisions are generated files; their folder needs no prose.
UNDOCUMENTED = {REPO / "migrations" / "versions" / "__init__.py"}


def _docstring(init: Path) -> str:
    return ast.get_docstring(ast.parse(init.read_text())) or ""


def _packages() -> list[Path]:
    found = (
        init
        for top in TOP_LEVEL
        for init in (REPO / top).rglob("__init__.py")
        if init not in UNDOCUMENTED and "__pycache__" not in init.parts
    )
    return sorted(found)


@pytest.mark.parametrize("top", TOP_LEVEL)
def test_each_top_level_folder_says_what_it_may_import(top: str) -> None:
    docstring = _docstring(REPO / top / "__init__.py")

    assert "import" in docstring, f"{top}/__init__.py: say what it may import"


@pytest.mark.parametrize("init", _packages(), ids=lambda init: str(init.parent.relative_to(REPO)))
def test_each_package_opens_with_a_docstring(init: Path) -> None:
    assert _docstring(init), f"{init.relative_to(REPO)}: say what lives here"
