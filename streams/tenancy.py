"""A resource's tenant is fixed once, for good (contract 4): the rule deals and calls share.

The first claim on a resource (in arrival order, after the tenants already stored) fixes its
tenant. A later claim naming another tenant is refused: moving the resource would show one
tenant's data to another, and keeping the event would let a stranger write into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TenantClaim:
    """What one event says about the tenant of the resource (a deal, a call) it belongs to."""

    resource_id: str
    # The tenant the event names; None names none and joins whatever tenant the resource has.
    names: str | None
    # The tenant an event naming none fixes, should it be the resource's first word on it.
    fallback: str | None = None


@dataclass(frozen=True, slots=True)
class TenantVerdict:
    """What `assign_tenants` decided for one batch."""

    # resource id -> tenant, for every resource with a tenant: the known ones and those claimed
    # now.
    tenants: Mapping[str, str]
    # Position in the batch -> why that event is refused (it names another tenant).
    refused: Mapping[int, str]

    def accepted(self, events: Sequence[T]) -> list[T]:
        return [e for i, e in enumerate(events) if i not in self.refused]


def fix_tenants(
    claims: Iterable[TenantClaim], known: Mapping[str, str], *, kind: str
) -> TenantVerdict:
    """Each resource's tenant after `claims` (in arrival order), given the tenants already
    fixed; `kind` names the resource in the refusals ("deal", "call")."""
    tenants = dict(known)
    refused: dict[int, str] = {}
    for index, claim in enumerate(claims):
        fixed = tenants.get(claim.resource_id)
        if fixed is None:
            claimed = claim.names if claim.names is not None else claim.fallback
            if claimed is not None:
                tenants[claim.resource_id] = claimed
        elif claim.names is not None and claim.names != fixed:
            refused[index] = (
                f"{kind} {claim.resource_id!r} belongs to enterprise {fixed!r}, not"
                f" {claim.names!r}: a {kind} never changes tenant"
            )
    return TenantVerdict(tenants, refused)
