"""One adapter request sent with aiohttp under a hard timeout: what the smart redirect and the
API's connection test need, without the delivery engine's retries, limits and breakers."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aiohttp

from integrations.adapters.base import HttpRequest
from integrations.config.secrets import MASK, mask

# Enough for any answer we read (a page of customers, a credentials check); a CRM that sends
# more is not keeping the process's memory.
MAX_BODY_BYTES = 1_000_000

# What a failed request raises: no answer in time, a refused or broken connection, an address
# aiohttp cannot use.
REQUEST_FAILED: tuple[type[BaseException], ...] = (
    TimeoutError,
    aiohttp.ClientError,
    OSError,
    ValueError,
)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


async def fetch(session: aiohttp.ClientSession, request: HttpRequest, timeout_sec: float) -> Answer:
    """The answer to `request`, whole, within `timeout_sec` (connecting included); raises one of
    REQUEST_FAILED otherwise."""
    async with asyncio.timeout(timeout_sec):
        async with session.request(
            request.method,
            request.url,
            headers=dict(request.headers),
            data=dict(request.form) if request.form is not None else None,
            json=request.json,
            allow_redirects=False,
        ) as response:
            body = await response.content.read(MAX_BODY_BYTES)
            return Answer(response.status, dict(response.headers), body)


def describe_failure(exc: BaseException, timeout_sec: float, secrets: Sequence[str] = ()) -> str:
    """A failed request in words for an operator, `secrets` masked: aiohttp's messages may
    quote the URL, and a Telegram URL holds the bot token."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_sec:g} s"
    if isinstance(exc, aiohttp.ClientConnectorError):
        text = f"cannot connect to {exc.host}:{exc.port}: {exc.os_error.strerror or exc.os_error}"
    elif isinstance(exc, aiohttp.ClientError | OSError):
        text = f"{type(exc).__name__}: {exc}"
    else:
        text = f"invalid request: {exc}"
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret) or MASK)
    return text
