"""The smart redirect's manager cache: TTLs per kind of answer, the LRU bound, and keys that
keep enterprises and CRMs apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from integrations.smart_redirect.cache import Cached, CacheKey, ManagerCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key(phone: str = "+79990001122", enterprise: str = "e1", crm: str = "http://crm") -> CacheKey:
    return CacheKey(enterprise, crm, phone)


def test_a_manager_is_kept_for_the_known_ttl_and_no_manager_for_the_unknown_one() -> None:
    clock = Clock()
    cache = ManagerCache(known_ttl_sec=300, unknown_ttl_sec=30, clock=clock)
    cache.put(key("+1"), 16)
    cache.put(key("+2"), None)

    clock.now += 29.9
    assert cache.get(key("+1")) == Cached(16)
    assert cache.get(key("+2")) == Cached(None)
    clock.now += 0.1
    assert cache.get(key("+2")) is None
    assert cache.get(key("+1")) == Cached(16)
    clock.now += 270
    assert cache.get(key("+1")) is None
    assert len(cache) == 0


def test_enterprises_and_crms_never_share_an_entry() -> None:
    cache = ManagerCache()
    cache.put(key(), 16)

    assert cache.get(key(enterprise="e2")) is None
    assert cache.get(key(crm="http://other-crm")) is None


def test_forget_drops_one_enterprise_only() -> None:
    cache = ManagerCache()
    cache.put(key(enterprise="e1"), 16)
    cache.put(key(enterprise="e2"), 17)

    cache.forget("e1")

    assert cache.get(key(enterprise="e1")) is None
    assert cache.get(key(enterprise="e2")) == Cached(17)


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = ManagerCache(max_entries=2)
    cache.put(key("+1"), 1)
    cache.put(key("+2"), 2)
    cache.get(key("+1"))
    cache.put(key("+3"), 3)

    assert cache.get(key("+2")) is None
    assert cache.get(key("+1")) == Cached(1)
    assert cache.get(key("+3")) == Cached(3)


@given(
    st.lists(
        st.tuples(st.sampled_from(["+1", "+2", "+3", "+4"]), st.none() | st.integers(1, 5)),
        max_size=40,
    ),
    st.integers(1, 4),
)
def test_the_bound_holds_and_the_newest_answer_of_a_kept_number_wins(
    puts: list[tuple[str, int | None]], bound: int
) -> None:
    cache = ManagerCache(max_entries=bound)
    for phone, user_id in puts:
        cache.put(key(phone), user_id)

    assert len(cache) <= bound
    latest = dict(puts)
    for phone, user_id in latest.items():
        found = cache.get(key(phone))
        assert found is None or found == Cached(user_id)
