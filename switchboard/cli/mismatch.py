"""What `switchboard verify` reports: a figure that differs from the truth, or an API that
cannot be asked. Shared by the contact centre's comparison and the voice bot's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Mismatch:
    where: str
    name: str
    expected: Any
    got: Any

    def __str__(self) -> str:
        return f"{self.where} {self.name}: expected {self.expected}, got {self.got}"


class ApiRefused(Exception):
    pass
