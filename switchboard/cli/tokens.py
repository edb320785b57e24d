"""`switchboard token list`: the stored tokens as a table or JSON, never their secrets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from api.auth import TokenInfo

_COLUMNS = ("ID", "NAME", "ENTERPRISES", "ADMIN", "CREATED", "LAST USED", "REVOKED")


def tokens_json(tokens: Sequence[TokenInfo]) -> str:
    return orjson.dumps([_as_json(t) for t in tokens], option=orjson.OPT_INDENT_2).decode()


def tokens_table(tokens: Sequence[TokenInfo]) -> str:
    rows = [_COLUMNS, *(_as_row(t) for t in tokens)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _as_json(token: TokenInfo) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "enterprises": token.enterprises,
        "admin": token.admin,
        "createdAt": _iso(token.created_at),
        "lastUsedAt": _iso(token.last_used_at),
        "revokedAt": _iso(token.revoked_at),
    }


def _as_row(token: TokenInfo) -> tuple[str, ...]:
    return (
        str(token.id),
        token.name or "-",
        ",".join(token.enterprises) or "-",
        "yes" if token.admin else "no",
        _short(token.created_at),
        _short(token.last_used_at),
        _short(token.revoked_at),
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _short(moment: datetime | None) -> str:
    # Server times are UTC; seconds are precision enough to tell tokens apart by use.
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%SZ")
