"""Token parsing, hashing and the token lookup cache."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.auth import (
    TOKEN_PREFIX,
    Principal,
    TokenCache,
    basic_auth_token,
    bearer_token,
    hash_token,
    new_token,
    presented_token,
    requires_token,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingLoader:
    def __init__(self, scopes: dict[str, Principal]) -> None:
        self.scopes = scopes
        self.calls: list[str] = []

    async def __call__(self, token_hash: str) -> Principal | None:
        self.calls.append(token_hash)
        return self.scopes.get(token_hash)


def test_new_tokens_are_prefixed_random_and_hashed_with_sha256() -> None:
    first, second = new_token(), new_token()

    assert first.startswith(TOKEN_PREFIX) and first != second
    assert len(first) == len(TOKEN_PREFIX) + 43  # 32 bytes, URL-safe base64 without padding
    assert hash_token(first) == hashlib.sha256(first.encode()).hexdigest()


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer sbt_abc", "sbt_abc"),
        ("bearer sbt_abc", "sbt_abc"),
        ("BEARER   sbt_abc  ", "sbt_abc"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Basic dXNlcjpwYXNz", None),
        ("Bearer " + "x" * 257, None),
        ("Bearer sbt_ab\u00e9", None),
        ("Bearer sbt_\udcff", None),  # how aiohttp hands over a byte that is not UTF-8
        ("Bearer sbt_a\x00b", None),
        ("Bearer sbt_a b", None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def _basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (_basic(b"user:sbt_abc"), "sbt_abc"),
        (_basic(b"any:sbt_abc"), "sbt_abc"),
        (_basic(b":sbt_abc"), "sbt_abc"),
        ("basic " + base64.b64encode(b"u:sbt_abc").decode(), "sbt_abc"),
        (_basic(b"user:pa:ss"), None),  # a colon is no token character
        (_basic(b"sbt_abc"), None),  # no colon: no password
        (_basic(b"user:"), None),
        (_basic(b"user:\xff\xfe"), None),  # not UTF-8
        (_basic("user:sbt_\u00e9".encode()), None),
        ("Basic not base64!", None),
        ("Basic dXNlcjpzYnRfYWJj\u00e9", None),  # non-ASCII inside the base64
        ("Basic " + "A" * 5000, None),
        ("Bearer sbt_abc", None),
    ],
)
def test_basic_auth_token(header: str, token: str | None) -> None:
    assert basic_auth_token(header) == token


def test_a_token_is_presented_by_either_scheme() -> None:
    assert presented_token("Bearer sbt_abc") == "sbt_abc"
    assert presented_token(_basic(b"registry:sbt_abc")) == "sbt_abc"
    assert presented_token("Digest sbt_abc") is None


# Surrogates too: aiohttp hands undecodable header bytes over as lone surrogates.
@given(st.text(st.characters(exclude_categories=())))
def test_no_header_text_breaks_the_parser_and_what_it_returns_can_be_hashed(
    header: str,
) -> None:
    token = presented_token(header)
    if token is not None:
        assert hash_token(token)


@given(st.binary(max_size=300))
def test_no_basic_credentials_break_the_parser(credentials: bytes) -> None:
    token = basic_auth_token(_basic(credentials))
    if token is not None:
        assert hash_token(token)


@pytest.mark.parametrize(
    ("path", "protected"),
    [
        ("/api/calls", True),
        ("/api/openapi.json", True),
        ("/api", True),
        ("/masterdeal/42", True),
        ("/health", False),
        ("/metrics", False),
        ("/schema-registry/subjects", False),
        ("/apis", False),
    ],
)
def test_which_paths_require_a_token(path: str, protected: bool) -> None:
    assert requires_token(path) is protected


async def test_the_cache_answers_repeated_lookups_until_they_expire() -> None:
    clock = FakeClock()
    cache = TokenCache(ttl_sec=5, clock=clock)
    load = CountingLoader({"h1": Principal(frozenset({"e1"}))})

    assert await cache.resolve("h1", load) == Principal(frozenset({"e1"}))
    clock.now = 4.9
    assert await cache.resolve("h1", load) == Principal(frozenset({"e1"}))
    assert load.calls == ["h1"]

    clock.now = 5.1
    assert await cache.resolve("h1", load) == Principal(frozenset({"e1"}))
    assert load.calls == ["h1", "h1"]


async def test_unknown_tokens_are_cached_too() -> None:
    cache = TokenCache(clock=FakeClock())
    load = CountingLoader({})

    assert await cache.resolve("bad", load) is None
    assert await cache.resolve("bad", load) is None
    assert load.calls == ["bad"]


async def test_the_cache_is_bounded_and_forgets_the_oldest_first() -> None:
    cache = TokenCache(max_entries=2, clock=FakeClock())
    load = CountingLoader({})

    for token_hash in ("a", "b", "c"):
        await cache.resolve(token_hash, load)
    await cache.resolve("c", load)
    await cache.resolve("a", load)

    assert len(cache) == 2
    assert load.calls == ["a", "b", "c", "a"]
