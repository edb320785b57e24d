"""Bearer tokens scoped to enterprises.

A token is `sbt_` plus 32 random bytes (URL-safe base64). Only its SHA-256 is stored, so the
table leaks nothing usable; a request is authenticated by hashing what it presents and
looking the hash up. Lookups are cached briefly, so a revoked token stops working within
`TOKEN_CACHE_TTL_SEC`, and auth does not cost a query per request.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable

import asyncpg
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from api.errors import forbidden, unauthorized
from api.keys import POOL

Scope = frozenset[str]

TOKEN_PREFIX = "sbt_"
TOKEN_CACHE_TTL_SEC = 5.0
TOKEN_CACHE_MAX_ENTRIES = 4096
# Far longer than any token we issue; anything longer is refused before it is hashed.
_MAX_TOKEN_LENGTH = 256
# Paths that carry tenant data; /health, /metrics and /schema-registry stay open.
PROTECTED_PREFIXES = ("/api/", "/masterdeal/")

_INSERT_TOKEN = "INSERT INTO api_tokens (token_hash, name, enterprises) VALUES ($1, $2, $3)"
# A revocation time in the future is honoured from that moment on.
_TOKEN_SCOPE = """
SELECT enterprises FROM api_tokens
WHERE token_hash = $1 AND (revoked_at IS NULL OR revoked_at > now())
"""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def create_token(database_url: str, enterprises: list[str], name: str | None) -> str:
    """Stores a new token for `enterprises` and returns it; this is the only time it is seen."""
    scope = sorted({e.strip() for e in enterprises})
    if not scope or "" in scope:
        raise ValueError("a token needs at least one non-empty enterprise id")
    token = new_token()
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(_INSERT_TOKEN, hash_token(token), name, scope)
    finally:
        await conn.close()
    return token


class TokenCache:
    """Token hash -> scope (None: unknown or revoked), for `ttl_sec`, at most `max_entries`.

    Unknown tokens are cached too, so replaying a bad token does not reach the database
    either; the least recently stored entries make room for new ones.
    """

    def __init__(
        self,
        *,
        ttl_sec: float = TOKEN_CACHE_TTL_SEC,
        max_entries: int = TOKEN_CACHE_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_sec = ttl_sec
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Scope | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def resolve(
        self, token_hash: str, load: Callable[[str], Awaitable[Scope | None]]
    ) -> Scope | None:
        now = self._clock()
        cached = self._entries.get(token_hash)
        if cached is not None and cached[0] > now:
            return cached[1]
        scope = await load(token_hash)
        self._entries.pop(token_hash, None)
        self._entries[token_hash] = (self._clock() + self._ttl_sec, scope)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return scope

    def clear(self) -> None:
        self._entries.clear()


TOKEN_CACHE = web.AppKey("token_cache", TokenCache)
SCOPE = web.RequestKey("scope", frozenset)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header; the scheme is case-insensitive."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    return token


def requires_token(path: str) -> bool:
    return path.startswith(PROTECTED_PREFIXES) or path in ("/api", "/masterdeal")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolves the bearer token of protected paths to its scope, stored at `request[SCOPE]`."""
    if not requires_token(request.path):
        return await handler(request)
    header = request.headers.get(hdrs.AUTHORIZATION)
    token = bearer_token(header)
    if token is None:
        raise unauthorized("a bearer token is required", invalid_token=header is not None)
    scope = await request.config_dict[TOKEN_CACHE].resolve(
        hash_token(token), lambda token_hash: _load_scope(request.config_dict[POOL], token_hash)
    )
    if scope is None:
        raise unauthorized("the bearer token is unknown or revoked", invalid_token=True)
    request[SCOPE] = scope
    return await handler(request)


async def _load_scope(pool: asyncpg.Pool, token_hash: str) -> Scope | None:
    enterprises = await pool.fetchval(_TOKEN_SCOPE, token_hash)
    return None if enterprises is None else frozenset(enterprises)


def token_scope(request: web.Request) -> Scope:
    """The enterprises the request's token may see (the auth middleware put them there)."""
    return request[SCOPE]


def require_enterprises(request: web.Request, enterprises: Iterable[str]) -> None:
    """403 unless every one of `enterprises` is within the request's token scope."""
    outside = sorted(set(enterprises) - token_scope(request))
    if outside:
        raise forbidden(f"enterprise {', '.join(outside)} is outside this token's enterprises")
