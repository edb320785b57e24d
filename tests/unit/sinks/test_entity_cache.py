"""What a worker keeps of its entities between batches, and when it lets go."""

from __future__ import annotations

import pytest

from sinks.entity_cache import EntityCache


def cached(cache: EntityCache[str, int], key: str) -> int | None:
    with cache.claim([key]) as claim:
        found = claim.hits.get(key)
        claim.keep({key: found})
    return found


def test_what_a_claim_keeps_the_next_one_finds() -> None:
    cache: EntityCache[str, int] = EntityCache(10)
    with cache.claim(["a", "b"]) as claim:
        assert claim.hits == {}
        claim.keep({"a": 1, "b": None})

    assert (cached(cache, "a"), cached(cache, "b")) == (1, None)
    assert (cache.hits, cache.misses) == (1, 3)


def test_a_claim_that_fails_forgets_its_keys() -> None:
    cache: EntityCache[str, int] = EntityCache(10)
    with cache.claim(["a"]) as claim:
        claim.keep({"a": 1})
    with pytest.raises(RuntimeError), cache.claim(["a"]) as claim:
        claim.keep({"a": 2})
        raise RuntimeError("the transaction rolled back")

    assert cached(cache, "a") is None


def test_a_rebalance_forgets_all_and_outlives_the_batches_in_flight() -> None:
    cache: EntityCache[str, int] = EntityCache(10)
    with cache.claim(["a"]) as claim:
        claim.keep({"a": 1})
    with cache.claim(["b"]) as in_flight:
        cache.forget()
        in_flight.keep({"b": 2})

    assert len(cache) == 0


def test_two_claims_of_one_key_read_it_back_and_keep_nothing() -> None:
    cache: EntityCache[str, int] = EntityCache(10)
    with cache.claim(["a"]) as claim:
        claim.keep({"a": 1})
    with cache.claim(["a"]) as first:
        assert first.hits == {"a": 1}
        with cache.claim(["a", "b"]) as second:
            # The first claim's hit is withdrawn: the second may commit before it reads.
            assert (first.hits, second.hits) == ({}, {})
            second.keep({"a": 3, "b": 4})
        first.keep({"a": 2})

    assert (cached(cache, "a"), cached(cache, "b")) == (None, 4)


def test_the_least_recently_kept_go_first() -> None:
    cache: EntityCache[str, int] = EntityCache(2)
    for key, value in (("a", 1), ("b", 2), ("a", 1), ("c", 3)):
        with cache.claim([key]) as claim:
            claim.keep({key: value})

    assert len(cache) == 2
    assert (cached(cache, "a"), cached(cache, "b"), cached(cache, "c")) == (1, None, 3)
