"""What a batch of `knowledge.articles` does to the stored articles and their vectors.

An article's newest version wins: max by (occurred_at, event key), so a late older version,
a duplicate or a replay changes nothing. Only a winning version touches the vectors, and only
as far as it must:
- a deleted or inactive article has none, so it leaves the search;
- one that arrives with a vector of its own keeps that vector as it came, as one chunk;
- one whose title and text (and the chunking) are unchanged, and whose stored vectors are the
  configured model's, keeps them: re-embedding is the worker's largest cost;
- any other is chunked and embedded again with the configured model, or, in a worker without
  a model, is stored without vectors (and so is not searchable until it is embedded).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from streams.voicebot.events import KnowledgeArticle
from streams.voicebot.knowledge.chunks import CHUNKING_VERSION, Chunk, chunk_text

ArticleKey = tuple[str, str]  # (enterprise_id, article_id)


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """What the sink needs of a stored article to judge a new version of it."""

    enterprise_id: str
    article_id: str
    occurred_at: datetime
    event_key: str
    content_hash: str
    embedding_model: str | None  # the model of its stored vectors (None: unnamed or none)
    chunks: int  # how many vectors it has in the search

    @property
    def version(self) -> tuple[datetime, str]:
        return (self.occurred_at, self.event_key)


class Vectors(Enum):
    CLEAR = "clear"  # out of the search: no vectors
    OWN = "own"  # the vector it came with
    KEEP = "keep"  # the stored ones are still right
    EMBED = "embed"  # chunked and embedded again


@dataclass(frozen=True, slots=True)
class ArticleChange:
    """A winning version and what becomes of its vectors."""

    article: KnowledgeArticle
    content_hash: str
    vectors: Vectors
    chunks: tuple[Chunk, ...] = ()

    @property
    def key(self) -> ArticleKey:
        return (self.article.enterprise_id, self.article.article_id)


def key_of(article: KnowledgeArticle) -> ArticleKey:
    return (article.enterprise_id, article.article_id)


def content_hash(article: KnowledgeArticle) -> str:
    """What the vectors were made from: the title and text, and how they were cut."""
    text = f"{CHUNKING_VERSION}\x1f{article.title}\x1f{article.content}"
    return hashlib.sha256(text.encode()).hexdigest()


def newest(articles: Iterable[KnowledgeArticle]) -> dict[ArticleKey, KnowledgeArticle]:
    """Each article's winning version among `articles`."""
    winners: dict[ArticleKey, KnowledgeArticle] = {}
    for article in articles:
        key = key_of(article)
        held = winners.get(key)
        if held is None or article.version > held.version:
            winners[key] = article
    return winners


def embedding_text(title: str, chunk: Chunk) -> str:
    """What the model reads for a chunk: the title gives a cut-off chunk its subject."""
    return f"{title}\n{chunk.text}"


def plan_changes(
    articles: Iterable[KnowledgeArticle],
    stored: Mapping[ArticleKey, StoredArticle],
    *,
    model: str | None,
) -> list[ArticleChange]:
    """The versions of `articles` that win over what is stored, each with what becomes of its
    vectors; `model` is the worker's embedding model (None: it has none). Sorted by key."""
    changes: list[ArticleChange] = []
    for key, article in sorted(newest(articles).items()):
        held = stored.get(key)
        if held is not None and held.version >= article.version:
            continue
        changes.append(_change(article, held, model))
    return changes


def _change(
    article: KnowledgeArticle, held: StoredArticle | None, model: str | None
) -> ArticleChange:
    digest = content_hash(article)
    if not article.searchable:
        return ArticleChange(article, digest, Vectors.CLEAR)
    if article.embedding:
        return ArticleChange(article, digest, Vectors.OWN)
    if model is None:
        return ArticleChange(article, digest, Vectors.CLEAR)
    if (
        held is not None
        and held.chunks > 0
        and held.content_hash == digest
        and held.embedding_model == model
    ):
        return ArticleChange(article, digest, Vectors.KEEP)
    chunks = chunk_text(article.content) or chunk_text(article.title)
    if not chunks:
        return ArticleChange(article, digest, Vectors.CLEAR)
    return ArticleChange(article, digest, Vectors.EMBED, tuple(chunks))
