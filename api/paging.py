"""Keyset pagination, shared by the list routes (GET /api/calls, GET /masterdeal): the `limit`
parameter (`Limit`), the opaque text of a cursor (a `cursor` field is
`Annotated[C | None, CursorOf(C.decode)]`), and the split of a fetched page.

A cursor is the sort key of a page's last row; each route says what that key is and checks it
on decoding, so a cursor of one route is refused by another.
"""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Annotated, Any, Self, TypeVar

import orjson
from pydantic import BeforeValidator, Field

from api.contract.fields import refuse

_R = TypeVar("_R")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def _limit(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    # Plain ASCII digits: int() would also take "1_000", " 5" and non-Latin digits.
    if not (value.isascii() and value.isdigit()):
        raise refuse(f"expected an integer, got {value!r}")
    limit = int(value)
    if not 1 <= limit <= MAX_LIMIT:
        raise refuse(f"must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


# The `limit` parameter: rows per page; give it DEFAULT_LIMIT as its default.
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT), BeforeValidator(_limit)]


class KeysetCursor(ABC):
    """The position after a page's last row: its sort key, as opaque text (unpadded URL-safe
    base64 of the key as JSON, safe in a query string)."""

    @abstractmethod
    def key(self) -> list[object]:
        """The sort key, JSON-encodable."""

    @classmethod
    @abstractmethod
    def from_key(cls, key: Any) -> Self:
        """The cursor of a decoded key; TypeError or ValueError for one `key` never gives."""

    def encode(self) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(self.key())).rstrip(b"=").decode()

    @classmethod
    def decode(cls, text: str) -> Self:
        """Raises ValueError for anything `encode` did not produce."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            return cls.from_key(orjson.loads(raw))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError("not a cursor this API issued") from exc


def split_page(rows: Sequence[_R], limit: int) -> tuple[Sequence[_R], _R | None]:
    """The page, and its last row when another page follows: the query fetched one row more
    than `limit` to tell."""
    page = rows[:limit]
    return page, (page[-1] if len(rows) > limit else None)


class PageSql:
    """The query of a page newest first across enterprises ($1, a text array): one scan per
    enterprise (the LATERAL join), each stopping after a page, then a merge, where
    `enterprise_id = ANY(...)` would sort every matching row of every enterprise instead.
    Values never become SQL text: `param` numbers them."""

    def __init__(self, enterprises: Sequence[str], alias: str) -> None:
        self.params: list[object] = [list(enterprises)]
        self._alias = alias
        self._conditions = [f"{alias}.enterprise_id = scope.enterprise_id"]

    def param(self, value: object) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def where(self, condition: str) -> None:
        self._conditions.append(condition)

    def sql(self, select: str, key: Sequence[str], limit: int) -> str:
        """`select` reads the rows (as `alias`); `key`, the columns of their order, newest
        first."""

        def order(alias: str) -> str:
            return ", ".join(f"{alias}.{column} DESC" for column in key)

        fetch = self.param(limit + 1)  # one more than the page: is there a next one?
        return f"""
SELECT page.* FROM unnest($1::text[]) AS scope(enterprise_id)
CROSS JOIN LATERAL (
    {select}
    WHERE {" AND ".join(self._conditions)}
    ORDER BY {order(self._alias)}
    LIMIT {fetch}
) AS page
ORDER BY {order("page")}
LIMIT {fetch}
"""
