"""The GETs `switchboard verify` asks the API, shared by the contact centre's comparison and the
voice bot's: one enterprise's figures over the truth's range."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from switchboard.cli.mismatch import ApiRefused


@dataclass(frozen=True)
class EnterpriseReads:
    """GETs of the API at `base_url` with `token`, for `enterprise` over the truth's `from` and
    `to`; anything but a 200 is ApiRefused."""

    session: aiohttp.ClientSession
    base_url: str
    token: str
    enterprise: str
    truth: Mapping[str, Any]

    async def get(self, path: str, **params: str) -> Any:
        window = {"from": self.truth["from"], "to": self.truth["to"]}
        async with self.session.get(
            f"{self.base_url}{path}",
            params={**window, "enterprise_id": self.enterprise, **params},
            headers={"Authorization": f"Bearer {self.token}"},
        ) as response:
            if response.status != 200:
                raise ApiRefused(f"{path} answered {response.status}: {await response.text()}")
            return await response.json()
