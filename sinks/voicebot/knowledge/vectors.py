"""pgvector's side of the knowledge base: whether this database can search, and vectors as
pgvector's text (no client codec needed: every vector is sent as text and cast)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
import structlog

log = structlog.get_logger(__name__)

EMBEDDINGS = "voicebot.knowledge_embeddings"


def vector_text(vector: Sequence[float]) -> str:
    """pgvector's input form, `[x,y,...]`; repr keeps every float's value exactly."""
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


async def search_table_exists(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", EMBEDDINGS))


async def prepare_search(conn: asyncpg.Connection, dimension: int) -> bool:
    """Makes the vector table and the HNSW index of `dimension` where pgvector is installed
    (migration 0013's function, idempotent); whether search is possible on this database."""
    try:
        async with conn.transaction():
            ready = await conn.fetchval("SELECT voicebot.knowledge_search_setup($1)", dimension)
    except asyncpg.InsufficientPrivilegeError as exc:
        # CREATE EXTENSION needs rights the worker's role may lack; a DBA may have done it.
        log.warning("cannot set knowledge search up", error=str(exc))
        return await search_table_exists(conn)
    return bool(ready)
