"""API tokens scoped to enterprises, some of them admin.

A token is `sbt_` plus 32 random bytes (URL-safe base64). Only its SHA-256 is stored, so the
table leaks nothing usable; a request is authenticated by hashing what it presents and
looking the hash up. A token comes as `Authorization: Bearer TOKEN` or as HTTP basic auth with
the token as the password (what Schema Registry clients send for `basic.auth.user.info`; the user
name is ignored). Lookups are cached briefly, so a revoked token stops working within
`TOKEN_CACHE_TTL_SEC`, and auth does not cost a query per request.

An admin token may also change the built-in Schema Registry and ops data (`/api/lag`); its
enterprises still bound the tenant data it sees.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from api.errors import forbidden, not_found, unauthorized
from api.keys import POOL

Scope = frozenset[str]

TOKEN_PREFIX = "sbt_"
TOKEN_CACHE_TTL_SEC = 5.0
TOKEN_CACHE_MAX_ENTRIES = 4096
# Far longer than any token we issue; anything longer is refused before it is hashed.
_MAX_TOKEN_LENGTH = 256
# Base64 of a user name, a colon and the longest token, with room to spare.
_MAX_BASIC_CREDENTIALS_LENGTH = 1024
# RFC 6750's b64token. Anything else (non-ASCII, NUL, spaces) cannot be a token of ours, and
# refusing it here keeps such bytes away from hashing and SQL.
_TOKEN_SYNTAX = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# Paths that carry tenant data; /health, /metrics and /schema-registry stay open.
PROTECTED_PREFIXES = ("/api/", "/masterdeal/")

_INSERT_TOKEN = """
INSERT INTO api_tokens (token_hash, name, enterprises, is_admin) VALUES ($1, $2, $3, $4)
RETURNING id
"""
# Looks a token up and, at most once a minute per token, records its use in the same round
# trip: the cache already limits lookups to one per TTL, so this costs no extra query and
# writes far less than once per request. A revocation time in the future is honoured from that
# moment on.
_RESOLVE_TOKEN = """
WITH found AS (
    SELECT id, enterprises, is_admin, last_used_at FROM api_tokens
    WHERE token_hash = $1 AND (revoked_at IS NULL OR revoked_at > now())
), touched AS (
    UPDATE api_tokens SET last_used_at = now()
    FROM found
    WHERE api_tokens.id = found.id
      AND (found.last_used_at IS NULL OR found.last_used_at < now() - interval '60 seconds')
)
SELECT enterprises, is_admin FROM found
"""
_LIST_TOKENS = """
SELECT id, name, enterprises, is_admin, created_at, last_used_at, revoked_at
FROM api_tokens ORDER BY id
"""
_LIVE_TOKEN = """
SELECT id, name, enterprises, is_admin, created_at, last_used_at, revoked_at
FROM api_tokens WHERE token_hash = $1 AND (revoked_at IS NULL OR revoked_at > now())
"""
# Revoking twice keeps the first revocation time; a future one is brought forward to now.
_REVOKE_TOKEN = """
UPDATE api_tokens SET revoked_at = LEAST(COALESCE(revoked_at, now()), now())
WHERE id = $1 RETURNING id
"""


@dataclass(frozen=True)
class Principal:
    """What a valid token may do: see `scope`'s tenant data; with `admin`, change settings."""

    scope: Scope
    admin: bool = False


@dataclass(frozen=True)
class TokenInfo:
    """A stored token as `token list` shows it; the secret itself is never kept."""

    id: int
    name: str | None
    enterprises: list[str]
    admin: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def create_token(
    database_url: str, enterprises: list[str], name: str | None, *, admin: bool = False
) -> str:
    """Stores a new token for `enterprises` and returns it; this is the only time it is seen.

    An admin token may have no enterprise: it changes settings and sees no tenant's data.
    """
    scope = sorted({e.strip() for e in enterprises})
    if "" in scope or not (scope or admin):
        raise ValueError("a token needs at least one non-empty enterprise id")
    token = new_token()
    conn = await asyncpg.connect(database_url)
    try:
        await conn.fetchval(_INSERT_TOKEN, hash_token(token), name, scope, admin)
    finally:
        await conn.close()
    return token


async def list_tokens(database_url: str) -> list[TokenInfo]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(_LIST_TOKENS)
    finally:
        await conn.close()
    return [_token_info(row) for row in rows]


def _token_info(row: asyncpg.Record) -> TokenInfo:
    return TokenInfo(
        id=row["id"],
        name=row["name"],
        enterprises=list(row["enterprises"]),
        admin=row["is_admin"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def live_token(database_url: str, token: str) -> TokenInfo | None:
    """The stored token with this secret, unless it is revoked: lets `up` reuse its own."""
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(_LIVE_TOKEN, hash_token(token))
    finally:
        await conn.close()
    return None if row is None else _token_info(row)


async def revoke_token(database_url: str, token_id: int) -> bool:
    """Revokes the token with this id; False when there is none."""
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(_REVOKE_TOKEN, token_id) is not None
    finally:
        await conn.close()


class TokenCache:
    """Token hash -> principal (None: unknown or revoked), for `ttl_sec`, at most `max_entries`.

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
        self._entries: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def resolve(
        self, token_hash: str, load: Callable[[str], Awaitable[Principal | None]]
    ) -> Principal | None:
        now = self._clock()
        cached = self._entries.get(token_hash)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = await load(token_hash)
        self._entries.pop(token_hash, None)
        self._entries[token_hash] = (self._clock() + self._ttl_sec, principal)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return principal

    def clear(self) -> None:
        self._entries.clear()


TOKEN_CACHE = web.AppKey("token_cache", TokenCache)
PRINCIPAL = web.RequestKey("principal", Principal)


def _well_formed(token: str) -> str | None:
    if len(token) > _MAX_TOKEN_LENGTH or not _TOKEN_SYNTAX.fullmatch(token):
        return None
    return token


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header; the scheme is case-insensitive."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return _well_formed(token.strip())


def basic_auth_token(authorization: str | None) -> str | None:
    """The password of an `Authorization: Basic base64(user:password)` header, if it is
    shaped like a token; the user name is ignored."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    encoded = encoded.strip()
    if scheme.lower() != "basic" or len(encoded) > _MAX_BASIC_CREDENTIALS_LENGTH:
        return None
    try:
        credentials = base64.b64decode(encoded, validate=True).decode()
    except ValueError:  # not base64, not ASCII, or not UTF-8 once decoded
        return None
    _, colon, password = credentials.partition(":")
    return _well_formed(password) if colon else None


def presented_token(authorization: str | None) -> str | None:
    """The token a request presents, by bearer or basic auth; None if none is well formed."""
    return bearer_token(authorization) or basic_auth_token(authorization)


def requires_token(path: str) -> bool:
    return path.startswith(PROTECTED_PREFIXES) or path in ("/api", "/masterdeal")


async def authenticate(request: web.Request) -> Principal:
    """The request's principal, looked up once per request; 401 without a valid token."""
    if PRINCIPAL in request:
        return request[PRINCIPAL]
    header = request.headers.get(hdrs.AUTHORIZATION)
    token = presented_token(header)
    if token is None:
        raise unauthorized("a bearer token is required", invalid_token=header is not None)
    principal = await request.config_dict[TOKEN_CACHE].resolve(
        hash_token(token), lambda token_hash: _load(request.config_dict[POOL], token_hash)
    )
    if principal is None:
        raise unauthorized("the token is unknown or revoked", invalid_token=True)
    request[PRINCIPAL] = principal
    return principal


async def require_admin(request: web.Request) -> Principal:
    """The request's principal if it is an admin; 401 without a valid token, 403 otherwise."""
    principal = await authenticate(request)
    if not principal.admin:
        raise forbidden("this needs an admin token (`switchboard token create --admin`)")
    return principal


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolves the token of protected paths to its principal, stored at `request[PRINCIPAL]`."""
    if requires_token(request.path):
        await authenticate(request)
    return await handler(request)


async def _load(pool: asyncpg.Pool, token_hash: str) -> Principal | None:
    row = await pool.fetchrow(_RESOLVE_TOKEN, token_hash)
    return None if row is None else Principal(frozenset(row["enterprises"]), row["is_admin"])


def token_scope(request: web.Request) -> Scope:
    """The enterprises the request's token may see (the auth middleware put them there)."""
    return request[PRINCIPAL].scope


def require_enterprises(request: web.Request, enterprises: Iterable[str]) -> None:
    """403 unless every one of `enterprises` is within the request's token scope."""
    outside = sorted(set(enterprises) - token_scope(request))
    if outside:
        raise forbidden(f"enterprise {', '.join(outside)} is outside this token's enterprises")


def requested_enterprises(
    request: web.Request, requested: Iterable[str], *, outside_is_missing: bool = False
) -> list[str]:
    """The enterprises a list asks for, every one of the token's when it names none; 403 for
    any outside the token's scope, or, with `outside_is_missing`, 404 as for an enterprise that
    does not exist (the voice-bot routes; the older ones keep their documented 403)."""
    named = set(requested)
    if outside_is_missing:
        if named - token_scope(request):
            raise not_found("no such enterprise")
    else:
        require_enterprises(request, named)
    return sorted(named or token_scope(request))
