"""The knowledge base end to end on pgvector: articles written by the worker's sink with the
real model, searched through the real API (`GET /api/voicebot/knowledge/search`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import aiohttp
import asyncpg
import pytest
from structlog.testing import capture_logs

from api.auth import create_token
from sinks.voicebot.knowledge.articles import ArticleWriter, embed_missing
from sinks.voicebot.knowledge.embedder import DEFAULT_DIMENSION, DEFAULT_MODEL, EmbedderSlot
from streams.voicebot.events import KnowledgeArticle
from tests.integration.knowledge.corpus import ARTICLES, HARD_QUESTIONS, QUESTIONS
from tests.support.stack import launch_api

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
_events = count()
# The API loads the model on its first search: seconds, on two busy cores.
SEARCH_TIMEOUT = aiohttp.ClientTimeout(total=180)


def article(
    enterprise: str, article_id: str, *, seconds: int = 0, **fields: Any
) -> KnowledgeArticle:
    title, content = ARTICLES.get(article_id, (article_id, f"About {article_id}."))
    values: dict[str, Any] = {
        "event_key": f"{enterprise}:{article_id}:{seconds}",
        "source_system": "kb",
        "event_id": f"e{next(_events)}",
        "occurred_at": T0 + timedelta(seconds=seconds),
        "enterprise_id": enterprise,
        "article_id": article_id,
        "title": title,
        "content": content,
        "active": True,
    }
    values.update(fields)
    return KnowledgeArticle(**values)


async def write(url: str, writer: ArticleWriter, articles: Sequence[KnowledgeArticle]) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await writer(conn, articles)
    finally:
        await conn.close()


async def fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def slot() -> EmbedderSlot:
    return EmbedderSlot(DEFAULT_MODEL, DEFAULT_DIMENSION, role="test")


@pytest.fixture(scope="module")
def kb_url(make_vector_database: Callable[[], str]) -> str:
    return make_vector_database()


@pytest.fixture(scope="module")
def kb_api(kb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {"DATABASE_URL": kb_url, "SWITCHBOARD_HOME": str(tmp_path_factory.mktemp("kb-home"))}
    api, url = launch_api(env, tmp_path_factory.mktemp("kb-api") / "api.log")
    yield url
    api.stop()


async def search(
    api: str, token: str, q: str, *, limit: int = 3, **params: str
) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession(timeout=SEARCH_TIMEOUT) as session,
        session.get(
            f"{api}/api/voicebot/knowledge/search",
            params={"q": q, "limit": str(limit), **params},
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        return response.status, await response.json()


async def test_search_finds_the_right_article_for_paraphrased_questions(
    kb_url: str, kb_api: str, slot: EmbedderSlot
) -> None:
    writer = ArticleWriter(slot)
    assert await write(kb_url, writer, [article("shop", a) for a in ARTICLES]) == len(ARTICLES)
    token = await create_token(kb_url, ["shop"], "kb")
    for question, expected in QUESTIONS:
        status, body = await search(kb_api, token, question)
        assert status == 200, body
        top = body["results"][0]
        assert top["articleId"] == expected, (question, body["results"])
        assert top["title"] == ARTICLES[expected][0]
        assert top["chunkText"] == ARTICLES[expected][1]
        distances = [r["distance"] for r in body["results"]]
        assert distances == sorted(distances) and 0 <= distances[0] < 1
    for question, expected in HARD_QUESTIONS:
        status, body = await search(kb_api, token, question)
        assert expected in [r["articleId"] for r in body["results"]], (question, body)
    # Another tenant's token sees none of them; naming this tenant is answered as for none.
    other = await create_token(kb_url, ["elsewhere"], "other")
    status, body = await search(kb_api, other, QUESTIONS[0][0])
    assert (status, body) == (200, {"results": []})
    status, body = await search(kb_api, other, QUESTIONS[0][0], enterprise_id="shop")
    missing = await search(kb_api, other, QUESTIONS[0][0], enterprise_id="no-such-shop")
    assert status == missing[0] == 404, body
    assert body == missing[1]


async def test_a_deleted_or_inactive_article_leaves_the_search_and_an_edit_is_re_embedded(
    kb_url: str, kb_api: str, slot: EmbedderSlot
) -> None:
    writer = ArticleWriter(slot)
    shop = "shop-edits"
    await write(kb_url, writer, [article(shop, a) for a in ("storage", "payment", "warranty")])
    token = await create_token(kb_url, [shop], "edits")

    async def ids(question: str) -> list[str]:
        status, body = await search(kb_api, token, question, limit=10)
        assert status == 200, body
        return [r["articleId"] for r in body["results"]]

    assert (await ids("Do you take credit cards?"))[0] == "payment"
    await write(kb_url, writer, [article(shop, "payment", seconds=10, deleted=True)])
    await write(kb_url, writer, [article(shop, "storage", seconds=10, active=False)])
    assert await ids("Do you take credit cards?") == ["warranty"]
    # A late older version (active, undeleted) changes nothing.
    assert await write(kb_url, writer, [article(shop, "payment", seconds=5)]) == 0
    assert await ids("Do you take credit cards?") == ["warranty"]
    # Back, with new text: its old vectors are gone, the new text is what is found.
    edited = "Cash only: we take no cards and no QR payments."
    await write(kb_url, writer, [article(shop, "payment", seconds=20, content=edited)])
    status, body = await search(kb_api, token, "Can I pay with a card?")
    assert status == 200, body
    assert body["results"][0]["chunkText"] == edited
    stored = await fetch(
        kb_url,
        "SELECT chunk_text FROM voicebot.knowledge_embeddings WHERE enterprise_id = $1"
        " AND article_id = 'payment'",
        shop,
    )
    assert [r["chunk_text"] for r in stored] == [edited]


async def test_articles_with_vectors_of_their_own_are_stored_as_they_are(
    kb_url: str, kb_api: str, slot: EmbedderSlot
) -> None:
    writer = ArticleWriter(slot)
    shop = "shop-own"
    embedder = await slot.get_async()
    assert embedder is not None
    (question,) = embedder.embed(["Where do I leave my car keys?"])
    own = [
        article(shop, "toy", embedding=(0.5, -0.25, 1.0), embedding_model="toy-3d"),
        article(shop, "keys", title="Keys", content="Leave keys at the desk.", embedding=question),
    ]
    await write(kb_url, writer, own)
    rows = await fetch(
        kb_url,
        "SELECT article_id, chunk_index, chunk_text, embedding_model, dimension,"
        " embedding::text AS v FROM voicebot.knowledge_embeddings WHERE enterprise_id = $1"
        " ORDER BY article_id",
        shop,
    )
    assert [(r["article_id"], r["chunk_index"], r["dimension"]) for r in rows] == [
        ("keys", 0, 384),
        ("toy", 0, 3),
    ]
    assert rows[1]["v"] == "[0.5,-0.25,1]" and rows[1]["embedding_model"] == "toy-3d"
    assert rows[0]["chunk_text"] == "Leave keys at the desk."
    assert [float(x) for x in rows[0]["v"].strip("[]").split(",")] == pytest.approx(question)
    # A vector naming no model, of the configured dimension, is searched with the model's.
    token = await create_token(kb_url, [shop], "own")
    status, body = await search(kb_api, token, "Where do I leave my car keys?")
    assert status == 200 and [r["articleId"] for r in body["results"]] == ["keys"]
    assert body["results"][0]["distance"] == pytest.approx(0, abs=1e-5)


async def test_a_worker_without_the_extra_says_so_once_and_stores_the_articles(
    kb_url: str, slot: EmbedderSlot, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = "shop-no-model"
    # What a machine without `.[knowledge]` has: no sentence-transformers to import.
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    bare = ArticleWriter(EmbedderSlot(DEFAULT_MODEL, DEFAULT_DIMENSION, role="worker"))
    with capture_logs() as logs:
        assert await write(kb_url, bare, [article(shop, "storage")]) == 1
        assert await write(kb_url, bare, [article(shop, "payment")]) == 1
    said = [e for e in logs if e["log_level"] == "warning"]
    assert len(said) == 1 and "no embedding model" in said[0]["event"], logs
    assert "knowledge" in said[0]["reason"]
    rows = await fetch(
        kb_url,
        "SELECT id, chunks FROM voicebot.knowledge_articles WHERE enterprise_id = $1 ORDER BY id",
        shop,
    )
    assert [(r["id"], r["chunks"]) for r in rows] == [("payment", 0), ("storage", 0)]
    # A worker with the model embeds what was left without vectors.
    monkeypatch.undo()
    conn = await asyncpg.connect(kb_url)
    try:
        assert await embed_missing(conn, ArticleWriter(slot)) >= 2
    finally:
        await conn.close()
    rows = await fetch(
        kb_url,
        "SELECT id, chunks, embedding_model FROM voicebot.knowledge_articles"
        " WHERE enterprise_id = $1 ORDER BY id",
        shop,
    )
    assert [tuple(r) for r in rows] == [
        ("payment", 1, DEFAULT_MODEL),
        ("storage", 1, DEFAULT_MODEL),
    ]


async def test_without_pgvector_articles_are_stored_and_search_answers_503(
    api_database_url: str, api_url: str, slot: EmbedderSlot
) -> None:
    """The machine's PostgreSQL 15 has no pgvector: migration 0013 made no vector table."""
    shop = "shop-no-pgvector"
    writer = ArticleWriter(slot)
    with capture_logs() as logs:
        await write(api_database_url, writer, [article(shop, "storage")])
        await write(api_database_url, writer, [article(shop, "payment", deleted=True)])
    said = [e["event"] for e in logs if e["log_level"] == "warning"]
    assert len(said) == 1 and "pgvector" in said[0], logs
    rows = await fetch(
        api_database_url,
        "SELECT id, deleted, chunks FROM voicebot.knowledge_articles WHERE enterprise_id = $1"
        " ORDER BY id",
        shop,
    )
    assert [tuple(r) for r in rows] == [("payment", True, 0), ("storage", False, 0)]
    token = await create_token(api_database_url, [shop], "no-pgvector")
    status, body = await search(api_url, token, "Can you keep my tyres?")
    assert status == 503, body
    assert body["error"]["code"] == "knowledge_search_unavailable"
    assert "pgvector" in body["error"]["message"]
