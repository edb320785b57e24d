"""One adapter per configurable integration type."""

from __future__ import annotations

from integrations.adapters.registry import ADAPTERS
from integrations.config.models import INTEGRATION_TYPES


def test_every_type_has_its_adapter() -> None:
    assert set(ADAPTERS) == set(INTEGRATION_TYPES)
    assert all(adapter.type == name for name, adapter in ADAPTERS.items())
