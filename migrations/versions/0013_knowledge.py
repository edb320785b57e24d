"""The voice bot's knowledge base (issue 13, contract 9, seed 004): articles and their vectors.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

`voicebot.knowledge_articles` keeps each article's winning version (newest `occurred_at`, ties
to the larger `event_key`), deleted and inactive ones included: they are stored, not searched.
`content_hash` is what its vectors were made from (title, text, chunking), so a version that
changes neither keeps them; `embedding_model` and `chunks` say what vectors it has.

`voicebot.knowledge_embeddings` holds the chunks of the searchable articles with their vectors
(pgvector), and so needs the `vector` extension, which not every server has: pgserver (the
embedded default) ships it, Debian's PostgreSQL 15 only with `postgresql-15-pgvector`. So the
vector table is made by `voicebot.knowledge_search_setup(dimension)`, which this migration calls
for the default model's 384 dimensions and the worker calls again on start, for its configured
dimension: on a server without pgvector it raises a NOTICE and answers false, the articles are
still stored, and search answers 503 until pgvector is installed (the next worker start then
makes the table, and embeds what it finds without vectors).

The column is an unsized `vector`, so that one table holds any model's vectors; each row says
its `dimension`, and the HNSW cosine index is per dimension, on the cast to that size, partial
on that dimension (pgvector's way to index mixed dimensions). A search names both, literally.
HNSW indexes at most 2,000 dimensions: a larger model's vectors are searched without one.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

DEFAULT_DIMENSION = 384

_SEARCH_SETUP = """
CREATE OR REPLACE FUNCTION voicebot.knowledge_search_setup(dimension INTEGER) RETURNS BOOLEAN
LANGUAGE plpgsql AS $fn$
BEGIN
    -- Two workers starting together would race to create the same objects.
    PERFORM pg_advisory_xact_lock(hashtextextended('switchboard knowledge_search_setup', 0));
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN
        IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
            RAISE NOTICE 'pgvector (the vector extension) is not installed on this server: '
                'knowledge articles are stored, knowledge search is unavailable';
            RETURN false;
        END IF;
        CREATE EXTENSION vector;
    END IF;
    CREATE TABLE IF NOT EXISTS voicebot.knowledge_embeddings (
        enterprise_id TEXT NOT NULL,
        article_id TEXT NOT NULL,
        chunk_index INTEGER NOT NULL,
        chunk_text TEXT NOT NULL,
        embedding_model TEXT,
        dimension INTEGER NOT NULL,
        embedding vector NOT NULL,
        PRIMARY KEY (enterprise_id, article_id, chunk_index),
        FOREIGN KEY (enterprise_id, article_id)
            REFERENCES voicebot.knowledge_articles (enterprise_id, id) ON DELETE CASCADE,
        CHECK (dimension = vector_dims(embedding))
    );
    IF dimension BETWEEN 1 AND 2000 THEN
        EXECUTE format(
            'CREATE INDEX IF NOT EXISTS %I ON voicebot.knowledge_embeddings'
            ' USING hnsw ((embedding::vector(%s)) vector_cosine_ops) WHERE dimension = %s',
            'knowledge_embeddings_hnsw_' || dimension, dimension, dimension
        );
    ELSE
        RAISE NOTICE 'HNSW indexes at most 2000 dimensions: % dimensions are searched unindexed',
            dimension;
    END IF;
    RETURN true;
END
$fn$
"""


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS voicebot")
    op.execute("""
    CREATE TABLE voicebot.knowledge_articles (
        enterprise_id TEXT NOT NULL,
        id TEXT NOT NULL,
        title TEXT NOT NULL,
        category TEXT,
        content TEXT NOT NULL,
        active BOOLEAN NOT NULL,
        deleted BOOLEAN NOT NULL DEFAULT false,
        content_hash TEXT NOT NULL,
        embedding_model TEXT,
        chunks INTEGER NOT NULL DEFAULT 0,
        source_system TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event_key TEXT NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (enterprise_id, id)
    )""")
    # What a worker that gained a model embeds: searchable articles without vectors.
    op.execute("""
    CREATE INDEX knowledge_articles_unembedded ON voicebot.knowledge_articles (enterprise_id, id)
    WHERE chunks = 0 AND active AND NOT deleted""")
    op.execute(_SEARCH_SETUP)
    op.execute(f"SELECT voicebot.knowledge_search_setup({DEFAULT_DIMENSION})")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS voicebot.knowledge_search_setup(INTEGER)")
    op.execute("DROP TABLE IF EXISTS voicebot.knowledge_embeddings")
    op.execute("DROP TABLE IF EXISTS voicebot.knowledge_articles")
