"""One HTTP request of a delivery, under a hard timeout: the server's answer, or what stopped it
(a timeout, a refused connection, any transport error) as a value, never an exception."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp

from integrations.adapters.base import HttpRequest

# An answer is read up to this much: a CRM's answers are small, and a log keeps less still.
MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Exchange:
    """An answered request (`status` set) or a failed one (`error` set)."""

    duration_sec: float
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None


def new_session(*, connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, limit_per_host=0),
        # Requests carry their own timeout; the session's default must not cut one short.
        timeout=aiohttp.ClientTimeout(total=None),
        raise_for_status=False,
    )


async def send(
    session: aiohttp.ClientSession, request: HttpRequest, *, timeout_sec: float
) -> Exchange:
    started = time.monotonic()
    try:
        async with session.request(
            request.method,
            request.url,
            headers=dict(request.headers),
            data=_data(request),
            json=request.json if request.form is None and request.body is None else None,
            timeout=aiohttp.ClientTimeout(total=timeout_sec),
            allow_redirects=False,
        ) as response:
            body = await response.content.read(MAX_BODY_BYTES)
            return Exchange(
                duration_sec=time.monotonic() - started,
                status=response.status,
                headers={k: v for k, v in response.headers.items()},
                body=body,
            )
    except TimeoutError:
        return Exchange(time.monotonic() - started, error=f"timeout after {timeout_sec:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        return Exchange(time.monotonic() - started, error=f"{type(exc).__name__}: {exc}")


def _data(request: HttpRequest) -> bytes | dict[str, str] | None:
    # Signed bytes go out exactly as signed; `json` then only describes them for the logs.
    if request.body is not None:
        return request.body
    return dict(request.form) if request.form is not None else None
