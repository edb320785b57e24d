"""A resource's tenant is fixed once: the rule deals and calls share (streams.tenancy)."""

from __future__ import annotations

from streams.tenancy import TenantClaim, fix_tenants


def test_the_first_claim_fixes_the_tenant_and_a_stranger_is_refused() -> None:
    verdict = fix_tenants(
        [TenantClaim("c-1", "a"), TenantClaim("c-1", "b"), TenantClaim("c-1", "a")], {}, kind="call"
    )
    assert verdict.tenants == {"c-1": "a"}
    assert verdict.refused == {
        1: "call 'c-1' belongs to enterprise 'a', not 'b': a call never changes tenant"
    }
    assert verdict.accepted(["first", "second", "third"]) == ["first", "third"]


def test_a_stored_tenant_wins_over_the_batch() -> None:
    verdict = fix_tenants([TenantClaim("d-1", "b")], {"d-1": "a"}, kind="deal")
    assert list(verdict.refused) == [0]


def test_naming_none_joins_and_a_fallback_fixes_only_an_unowned_resource() -> None:
    unnamed = TenantClaim("d-1", None)
    created = TenantClaim("d-1", None, fallback="default")
    assert fix_tenants([unnamed], {}, kind="deal").tenants == {}
    assert fix_tenants([unnamed, created], {}, kind="deal").tenants == {"d-1": "default"}
    owned = fix_tenants([created], {"d-1": "a"}, kind="deal")
    assert (owned.tenants, owned.refused) == ({"d-1": "a"}, {})
