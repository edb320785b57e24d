"""GET /api/voicebot/knowledge/search: the knowledge-base chunks nearest to a question.

The question is embedded here, in the API process, with the worker's model and dimension
(`knowledge_model`, `knowledge_dimension`), and compared by cosine distance with the chunks of
the active, undeleted articles of the token's enterprises, through the HNSW index of that
dimension (migration 0013). The model is loaded on the first search (seconds), in a thread.

Search needs pgvector on the database and the model (the `.[knowledge]` extra) in the API; it
answers 503 `knowledge_search_unavailable` saying which is missing, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.auth import requested_enterprises
from api.contract.fields import Enterprises, OptionalTime, Text, refuse
from api.contract.replies import INVALID_PARAMETER, NOT_FOUND, error_reply
from api.contract.route import Reply, endpoint
from api.errors import ApiError, invalid_parameter
from api.json import json_response
from api.keys import POOL, SETTINGS
from api.snapshot import snapshot
from sinks.voicebot.knowledge.embedder import EmbedderSlot, ModelMismatch, embed_async
from sinks.voicebot.knowledge.vectors import search_table_exists, vector_text

DEFAULT_RESULTS = 5
MAX_RESULTS = 100
# all-MiniLM-L6-v2 reads 256 word pieces; a question is far shorter than this.
MAX_QUESTION_CHARS = 2000
# HNSW finds this many candidates before the tenant and active filters; at least 10 per result.
MIN_EF_SEARCH = 100
MAX_EF_SEARCH = 1000
UNAVAILABLE_CODE = "knowledge_search_unavailable"


def _results(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if not (value.isascii() and value.isdigit()):
        raise refuse(f"expected an integer, got {value!r}")
    return int(value)


class KnowledgeSearchParams(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_by_name=True)

    q: Text = Field(
        max_length=MAX_QUESTION_CHARS,
        description="The question, in the articles' language.",
    )
    limit: Annotated[int, Field(ge=1, le=MAX_RESULTS), BeforeValidator(_results)] = Field(
        DEFAULT_RESULTS, description="How many chunks, nearest first."
    )
    enterprises: Enterprises = Field(
        (),
        validation_alias="enterprise_id",
        description="Repeatable. Default: every enterprise of the token; any other is 404.",
    )
    # Section 9: every voice-bot route takes them. Articles are not dated: they narrow nothing.
    start: OptionalTime = Field(
        None, validation_alias="from", description="Accepted; articles are not dated."
    )
    end: OptionalTime = Field(
        None, validation_alias="to", description="Accepted; articles are not dated."
    )


class KnowledgeResult(BaseModel):
    articleId: str
    title: str = Field(description="The article's title.")
    chunkText: str = Field(description="The chunk of the article's text that matched.")
    distance: float = Field(description="Cosine distance to the question: 0 same, 2 opposite.")


class KnowledgeResults(BaseModel):
    results: list[KnowledgeResult] = Field(description="Nearest first.")


def search_sql(dimension: int) -> str:
    # The dimension is written into the text, as the partial index's predicate and cast are:
    # the planner matches them literally (an int setting, never request input).
    vector = f"(e.embedding::vector({dimension}))"
    return f"""
SELECT e.article_id, a.title, e.chunk_text,
       {vector} <=> $1::text::vector({dimension}) AS distance
FROM voicebot.knowledge_embeddings e
JOIN voicebot.knowledge_articles a ON a.enterprise_id = e.enterprise_id AND a.id = e.article_id
WHERE e.dimension = {dimension}
  AND e.enterprise_id = ANY($2::text[])
  AND (e.embedding_model = $3 OR e.embedding_model IS NULL)
  AND a.active AND NOT a.deleted
ORDER BY {vector} <=> $1::text::vector({dimension})
LIMIT $4
"""


_slots: dict[tuple[str, int], EmbedderSlot] = {}


def _slot(model: str, dimension: int) -> EmbedderSlot:
    """The process's embedder of that model, loaded once."""
    return _slots.setdefault((model, dimension), EmbedderSlot(model, dimension, role="api"))


def unavailable(reason: str) -> ApiError:
    return ApiError(503, UNAVAILABLE_CODE, f"knowledge search is unavailable: {reason}")


@endpoint(
    "GET",
    "/api/voicebot/knowledge/search",
    operation_id="searchVoicebotKnowledge",
    tag="voicebot",
    summary="The knowledge-base chunks nearest to a question",
    description="Embeds `q` with the configured model (default all-MiniLM-L6-v2, 384"
    " dimensions) and answers the chunks of the active, undeleted articles of the enterprises"
    " nearest to it by cosine distance (pgvector HNSW, approximate). Articles that came with"
    " vectors of their own are searched where their vectors are of that model (or name none)"
    " and of that dimension.",
    responses={
        200: Reply("The nearest chunks.", KnowledgeResults),
        400: INVALID_PARAMETER,
        404: NOT_FOUND,
        503: error_reply(
            "The database is unavailable (`unavailable`), or search is not set up here"
            f" (`{UNAVAILABLE_CODE}`): the database has no pgvector, or the API has no"
            " embedding model (install the `.[knowledge]` extra)."
        ),
    },
)
async def search_knowledge(request: web.Request, query: KnowledgeSearchParams) -> web.Response:
    enterprises = requested_enterprises(request, query.enterprises, outside_is_missing=True)
    if not query.q.strip():
        raise invalid_parameter("q", "a question is needed")
    settings = request.config_dict[SETTINGS]
    pool = request.config_dict[POOL]
    async with pool.acquire() as conn:
        if not await search_table_exists(conn):
            raise unavailable("the database has no pgvector (the `vector` extension)")
    slot = _slot(settings.knowledge_model, settings.knowledge_dimension)
    try:
        embedder = await slot.get_async()
    except ModelMismatch as exc:
        raise unavailable(str(exc)) from None
    if embedder is None:
        raise unavailable(
            f"no embedding model {settings.knowledge_model!r} in the API (install the"
            " `.[knowledge]` extra)"
        )
    (question,) = await embed_async(embedder, [query.q])
    ef_search = min(MAX_EF_SEARCH, max(MIN_EF_SEARCH, 10 * query.limit))
    async with snapshot(pool) as conn:
        await conn.execute(f"SET LOCAL hnsw.ef_search = {ef_search}")
        rows = await conn.fetch(
            search_sql(embedder.dimension),
            vector_text(question),
            enterprises,
            embedder.model,
            query.limit,
        )
    return json_response(
        {
            "results": [
                {
                    "articleId": r["article_id"],
                    "title": r["title"],
                    "chunkText": r["chunk_text"],
                    "distance": float(r["distance"]),
                }
                for r in rows
            ]
        }
    )
