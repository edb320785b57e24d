"""Token parsing, hashing and the token lookup cache."""

from __future__ import annotations

import hashlib

import pytest

from api.auth import (
    TOKEN_PREFIX,
    Scope,
    TokenCache,
    bearer_token,
    hash_token,
    new_token,
    requires_token,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingLoader:
    def __init__(self, scopes: dict[str, Scope]) -> None:
        self.scopes = scopes
        self.calls: list[str] = []

    async def __call__(self, token_hash: str) -> Scope | None:
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
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


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
    load = CountingLoader({"h1": frozenset({"e1"})})

    assert await cache.resolve("h1", load) == frozenset({"e1"})
    clock.now = 4.9
    assert await cache.resolve("h1", load) == frozenset({"e1"})
    assert load.calls == ["h1"]

    clock.now = 5.1
    assert await cache.resolve("h1", load) == frozenset({"e1"})
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
