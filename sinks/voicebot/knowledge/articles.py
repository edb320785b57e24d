"""`knowledge.articles` into `voicebot.knowledge_articles` and their chunks' vectors.

Each batch, in one transaction: the stored versions of its articles are locked and read, each
article's winning version is found (streams.voicebot.knowledge.articles), and only the ones
newer than what is stored are written, with their vectors replaced, kept or cleared. Vectors
are made inside that transaction: an article's rows are locked while its chunks are embedded,
so two writers (a rebalance) can never leave one version's text with another's vectors.
Knowledge articles are few and rarely change; this is not the hot path.

Without pgvector, the articles are still stored (without vectors) and the worker says once that
search is unavailable; without a model (the `.[knowledge]` extra), likewise, and `embed_missing`
embeds them once a model is there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg
import structlog

from sinks.columns import columns
from sinks.voicebot.knowledge.embedder import EmbedderSlot, embed_async
from sinks.voicebot.knowledge.vectors import EMBEDDINGS, prepare_search, vector_text
from streams.voicebot.events import KnowledgeArticle
from streams.voicebot.knowledge.articles import (
    ArticleChange,
    ArticleKey,
    StoredArticle,
    Vectors,
    embedding_text,
    key_of,
    plan_changes,
)
from streams.voicebot.knowledge.chunks import chunk_text

log = structlog.get_logger(__name__)

ARTICLES = "voicebot.knowledge_articles"
_KEYS = "SELECT * FROM unnest($1::text[], $2::text[]) AS k(enterprise_id, id)"
_STORED = f"""
SELECT a.enterprise_id, a.id AS article_id, a.occurred_at, a.event_key, a.content_hash,
       a.embedding_model, a.chunks
FROM {ARTICLES} a JOIN ({_KEYS}) k ON a.enterprise_id = k.enterprise_id AND a.id = k.id
ORDER BY 1, 2
FOR UPDATE OF a
"""
_UPSERT = f"""
INSERT INTO {ARTICLES} AS a (
    enterprise_id, id, title, category, content, active, deleted, content_hash,
    embedding_model, chunks, source_system, event_id, event_key, occurred_at
)
SELECT * FROM unnest(
    $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::bool[],
    $8::text[], $9::text[], $10::int[], $11::text[], $12::text[], $13::text[],
    $14::timestamptz[]
)
ON CONFLICT (enterprise_id, id) DO UPDATE SET
    title = EXCLUDED.title, category = EXCLUDED.category, content = EXCLUDED.content,
    active = EXCLUDED.active, deleted = EXCLUDED.deleted, content_hash = EXCLUDED.content_hash,
    embedding_model = EXCLUDED.embedding_model, chunks = EXCLUDED.chunks,
    source_system = EXCLUDED.source_system, event_id = EXCLUDED.event_id,
    event_key = EXCLUDED.event_key, occurred_at = EXCLUDED.occurred_at, updated_at = now()
WHERE (EXCLUDED.occurred_at, EXCLUDED.event_key) > (a.occurred_at, a.event_key)
"""
_DELETE_VECTORS = f"""
DELETE FROM {EMBEDDINGS} e USING ({_KEYS}) k
WHERE e.enterprise_id = k.enterprise_id AND e.article_id = k.id
"""
_INSERT_VECTORS = f"""
INSERT INTO {EMBEDDINGS} (
    enterprise_id, article_id, chunk_index, chunk_text, embedding_model, dimension, embedding
)
SELECT enterprise_id, article_id, chunk_index, chunk_text, model, dimension, v::vector
FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[], $7::text[])
    AS r(enterprise_id, article_id, chunk_index, chunk_text, model, dimension, v)
"""
# Searchable articles without vectors: what a worker without a model (or pgvector) left.
_UNEMBEDDED = f"""
SELECT enterprise_id, id, title, content, content_hash FROM {ARTICLES}
WHERE chunks = 0 AND active AND NOT deleted
ORDER BY enterprise_id, id
LIMIT $1
"""
_LOCK_UNEMBEDDED = f"""
SELECT a.enterprise_id, a.id, a.content_hash FROM {ARTICLES} a
JOIN ({_KEYS}) k ON a.enterprise_id = k.enterprise_id AND a.id = k.id
WHERE a.chunks = 0 AND a.active AND NOT a.deleted
ORDER BY 1, 2
FOR UPDATE OF a
"""
_SET_EMBEDDED = f"""
UPDATE {ARTICLES} a SET embedding_model = $3, chunks = $4, updated_at = now()
WHERE a.enterprise_id = $1 AND a.id = $2
"""


@dataclass(frozen=True)
class Row:
    """One chunk's row of the vector table."""

    enterprise_id: str
    article_id: str
    chunk_index: int
    chunk_text: str
    model: str | None
    vector: Sequence[float]


@dataclass
class ArticleWriter:
    """The `knowledge.articles` sink of one worker: what it learnt of the database and the
    model is kept, so each is said once."""

    embedders: EmbedderSlot
    _search: bool | None = field(default=None, init=False)

    async def __call__(self, conn: asyncpg.Connection, events: Sequence[KnowledgeArticle]) -> int:
        """Writes the winning versions; returns how many articles changed."""
        if not events:
            return 0
        search = await self.search_ready(conn)
        async with conn.transaction():
            keys = sorted({key_of(e) for e in events})
            stored = {
                (r["enterprise_id"], r["article_id"]): StoredArticle(**dict(r))
                for r in await conn.fetch(_STORED, *columns(keys))
            }
            changes = plan_changes(events, stored, model=self.embedders.model)
            if not changes:
                return 0
            rows, changes = await self._vectors(changes, search=search)
            await _upsert(conn, changes, _vector_state(changes, rows, stored))
            if search:
                replaced = [c.key for c in changes if c.vectors is not Vectors.KEEP]
                if replaced:
                    await conn.execute(_DELETE_VECTORS, *columns(replaced))
                await _insert_rows(conn, rows)
        return len(changes)

    async def search_ready(self, conn: asyncpg.Connection) -> bool:
        """Whether the vector table is there, made if it can be: asked once per worker."""
        if self._search is None:
            self._search = await prepare_search(conn, self.embedders.dimension)
            if not self._search:
                log.warning(
                    "pgvector is not installed on this database: knowledge articles are stored"
                    " without vectors, and knowledge search is unavailable"
                )
        return self._search

    async def _vectors(
        self, changes: list[ArticleChange], *, search: bool
    ) -> tuple[list[Row], list[ArticleChange]]:
        """The vector rows of the changes, and the changes as they end up: what cannot be
        embedded (no model, no pgvector) is stored without vectors."""
        if not search:
            return [], [_cleared(c) if c.vectors is not Vectors.KEEP else c for c in changes]
        rows = [
            Row(
                c.article.enterprise_id,
                c.article.article_id,
                0,
                c.article.content,
                c.article.embedding_model,
                c.article.embedding or (),
            )
            for c in changes
            if c.vectors is Vectors.OWN
        ]
        to_embed = [c for c in changes if c.vectors is Vectors.EMBED]
        embedder = await self.embedders.get_async() if to_embed else None
        if to_embed and embedder is None:
            return rows, [_cleared(c) if c.vectors is Vectors.EMBED else c for c in changes]
        if embedder is not None:
            texts = [embedding_text(c.article.title, chunk) for c in to_embed for chunk in c.chunks]
            vectors = iter(await embed_async(embedder, texts))
            rows += [
                Row(
                    c.article.enterprise_id,
                    c.article.article_id,
                    chunk.index,
                    chunk.text,
                    embedder.model,
                    next(vectors),
                )
                for c in to_embed
                for chunk in c.chunks
            ]
        return rows, changes


def _cleared(change: ArticleChange) -> ArticleChange:
    return ArticleChange(change.article, change.content_hash, Vectors.CLEAR)


def _vector_state(
    changes: Sequence[ArticleChange],
    rows: Sequence[Row],
    stored: Mapping[ArticleKey, StoredArticle],
) -> dict[ArticleKey, tuple[str | None, int]]:
    """Each changed article's (embedding_model, chunks) once written."""
    state: dict[ArticleKey, tuple[str | None, int]] = {c.key: (None, 0) for c in changes}
    for row in rows:
        key = (row.enterprise_id, row.article_id)
        state[key] = (row.model, state[key][1] + 1)
    for c in changes:
        if c.vectors is Vectors.KEEP:
            held = stored[c.key]
            state[c.key] = (held.embedding_model, held.chunks)
    return state


async def _upsert(
    conn: asyncpg.Connection,
    changes: Sequence[ArticleChange],
    state: Mapping[ArticleKey, tuple[str | None, int]],
) -> None:
    values = [
        (
            c.article.enterprise_id,
            c.article.article_id,
            c.article.title,
            c.article.category,
            c.article.content,
            c.article.active,
            c.article.deleted,
            c.content_hash,
            *state[c.key],
            c.article.source_system,
            c.article.event_id,
            c.article.event_key,
            c.article.occurred_at,
        )
        for c in changes
    ]
    await conn.execute(_UPSERT, *columns(values))


async def _insert_rows(conn: asyncpg.Connection, rows: Sequence[Row]) -> None:
    if rows:
        await conn.execute(
            _INSERT_VECTORS,
            *columns(
                [
                    (
                        r.enterprise_id,
                        r.article_id,
                        r.chunk_index,
                        r.chunk_text,
                        r.model,
                        len(r.vector),
                        vector_text(r.vector),
                    )
                    for r in rows
                ]
            ),
        )


async def embed_missing(
    conn: asyncpg.Connection, writer: ArticleWriter, *, limit: int = 256
) -> int:
    """Embeds searchable articles stored without vectors (by a worker that had no model, or
    before pgvector was installed), at most `limit` of them; returns how many. The model runs
    outside any transaction: an article whose text changed meanwhile is left to its writer."""
    if not await writer.search_ready(conn):
        return 0
    found = await conn.fetch(_UNEMBEDDED, limit)
    if not found:
        return 0
    embedder = await writer.embedders.get_async()
    if embedder is None:
        return 0
    chunked = {
        (r["enterprise_id"], r["id"]): (
            r["content_hash"],
            r["title"],
            chunk_text(r["content"]) or chunk_text(r["title"]),
        )
        for r in found
    }
    texts = [embedding_text(title, c) for _, title, chunks in chunked.values() for c in chunks]
    vectors = iter(await embed_async(embedder, texts))
    rows = {
        key: [Row(key[0], key[1], c.index, c.text, embedder.model, next(vectors)) for c in chunks]
        for key, (_, _, chunks) in chunked.items()
    }
    done = 0
    async with conn.transaction():
        for r in await conn.fetch(_LOCK_UNEMBEDDED, *columns(sorted(chunked))):
            key = (r["enterprise_id"], r["id"])
            if r["content_hash"] != chunked[key][0] or not rows[key]:
                continue
            await conn.execute(_DELETE_VECTORS, [key[0]], [key[1]])
            await _insert_rows(conn, rows[key])
            await conn.execute(_SET_EMBEDDED, key[0], key[1], embedder.model, len(rows[key]))
            done += 1
    if done:
        log.info("knowledge articles embedded", articles=done, model=embedder.model)
    return done
