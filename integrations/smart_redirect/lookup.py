"""The responsible manager of a caller: from the cache, else from RetailCRM under the config's
`timeout_sec`. Never an error: a CRM that is slow, down or answers nonsense means "no
extension", and is not remembered, so the next call asks again.

Concurrent lookups of one number share a single request (single flight), and a PBX that hangs
up does not cancel it for the others waiting.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final, Literal

import aiohttp
import structlog

from integrations.adapters.retailcrm import extension_of, manager_id, manager_request
from integrations.config.models import RetailCrmConfig
from integrations.smart_redirect.cache import CacheKey, ManagerCache
from integrations.smart_redirect.http import REQUEST_FAILED, describe_failure, fetch

log = structlog.get_logger(__name__)

Source = Literal["crm", "cache"]


@dataclass(frozen=True, slots=True)
class Redirect:
    """Where to send the call: `extension` None means the PBX routes it as usual."""

    extension: str | None
    user_id: int | None
    source: Source


class _Unanswered:
    """The CRM gave no usable answer: nothing to cache."""


UNANSWERED: Final = _Unanswered()


def crm_of(config: RetailCrmConfig) -> str:
    return str(config.api_url).rstrip("/")


class SmartRedirect:
    """One per process, over its shared aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession, cache: ManagerCache | None = None) -> None:
        self._session = session
        self.cache = cache if cache is not None else ManagerCache()
        self._in_flight: dict[CacheKey, asyncio.Task[int | _Unanswered | None]] = {}

    async def resolve(self, enterprise_id: str, config: RetailCrmConfig, phone: str) -> Redirect:
        key = CacheKey(enterprise_id, crm_of(config), phone)
        cached = self.cache.get(key)
        if cached is not None:
            return _redirect(config, cached.user_id, "cache")
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.create_task(self._ask(key, config, phone))
            self._in_flight[key] = task
            task.add_done_callback(lambda _: self._in_flight.pop(key, None))
        found = await asyncio.shield(task)
        if isinstance(found, _Unanswered):
            return Redirect(None, None, "crm")
        return _redirect(config, found, "crm")

    async def close(self) -> None:
        """Cancels the lookups still in flight (the process is stopping)."""
        tasks = list(self._in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _ask(
        self, key: CacheKey, config: RetailCrmConfig, phone: str
    ) -> int | _Unanswered | None:
        try:
            answer = await fetch(self._session, manager_request(config, phone), config.timeout_sec)
        except REQUEST_FAILED as exc:
            log.warning(
                "smart_redirect_crm_failed",
                enterprise_id=key.enterprise_id,
                crm=key.crm,
                error=describe_failure(exc, config.timeout_sec),
            )
            return UNANSWERED
        if not 200 <= answer.status < 300:
            log.warning(
                "smart_redirect_crm_refused",
                enterprise_id=key.enterprise_id,
                crm=key.crm,
                http_status=answer.status,
            )
            return UNANSWERED
        try:
            user_id = manager_id(answer.body)
        except ValueError:
            log.warning("smart_redirect_crm_unreadable", enterprise_id=key.enterprise_id)
            return UNANSWERED
        self.cache.put(key, user_id)
        return user_id


def _redirect(config: RetailCrmConfig, user_id: int | None, source: Source) -> Redirect:
    extension = extension_of(config, user_id) if user_id is not None else None
    return Redirect(extension, user_id, source)
