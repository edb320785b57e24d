"""A batch of articles against what is stored: the newest version wins, and its vectors are
replaced, kept or cleared only as the version requires."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from streams.voicebot.events import KnowledgeArticle
from streams.voicebot.knowledge.articles import (
    StoredArticle,
    Vectors,
    content_hash,
    newest,
    plan_changes,
)

T0 = datetime(2026, 12, 1, tzinfo=UTC)
MODEL = "all-MiniLM-L6-v2"


def article(
    seconds: int = 0, *, key: str = "k", article_id: str = "a1", **fields: object
) -> KnowledgeArticle:
    values: dict[str, object] = {
        "event_key": key,
        "source_system": "kb",
        "event_id": f"e{seconds}{key}",
        "occurred_at": T0 + timedelta(seconds=seconds),
        "enterprise_id": "0367",
        "article_id": article_id,
        "title": "Winter tyres",
        "content": "Studded tyres are allowed from December to February.",
        "active": True,
    }
    values.update(fields)
    return KnowledgeArticle(**values)  # type: ignore[arg-type]


def stored(of: KnowledgeArticle, *, model: str | None = MODEL, chunks: int = 1) -> StoredArticle:
    return StoredArticle(
        enterprise_id=of.enterprise_id,
        article_id=of.article_id,
        occurred_at=of.occurred_at,
        event_key=of.event_key,
        content_hash=content_hash(of),
        embedding_model=model,
        chunks=chunks,
    )


def test_a_new_article_is_chunked_and_embedded() -> None:
    (change,) = plan_changes([article()], {}, model=MODEL)
    assert change.vectors is Vectors.EMBED
    assert [c.text for c in change.chunks] == [article().content]


def test_a_late_older_version_or_a_duplicate_changes_nothing() -> None:
    held = article(10)
    known = {("0367", "a1"): stored(held)}
    assert plan_changes([article(5, title="Old")], known, model=MODEL) == []
    assert plan_changes([held], known, model=MODEL) == []


def test_an_unchanged_text_keeps_its_vectors_and_a_changed_one_is_embedded_again() -> None:
    known = {("0367", "a1"): stored(article())}
    (same,) = plan_changes([article(10, category="winter")], known, model=MODEL)
    assert same.vectors is Vectors.KEEP
    (edited,) = plan_changes([article(10, content="Studs: December to March.")], known, model=MODEL)
    assert edited.vectors is Vectors.EMBED


def test_vectors_of_another_model_are_made_again() -> None:
    known = {("0367", "a1"): stored(article(), model="other-model")}
    (change,) = plan_changes([article(10)], known, model=MODEL)
    assert change.vectors is Vectors.EMBED


def test_a_deleted_or_inactive_article_leaves_the_search() -> None:
    known = {("0367", "a1"): stored(article())}
    for gone in (article(10, deleted=True), article(10, active=False)):
        (change,) = plan_changes([gone], known, model=MODEL)
        assert change.vectors is Vectors.CLEAR


def test_an_article_with_a_vector_of_its_own_keeps_it() -> None:
    (change,) = plan_changes([article(embedding=(0.1, 0.2, 0.3))], {}, model=None)
    assert change.vectors is Vectors.OWN


def test_without_a_model_an_article_is_stored_without_vectors() -> None:
    (change,) = plan_changes([article()], {}, model=None)
    assert change.vectors is Vectors.CLEAR


def test_ties_on_time_go_to_the_larger_event_key() -> None:
    versions = [article(3, key="b", title="B"), article(3, key="a", title="A")]
    assert newest(versions)[("0367", "a1")].title == "B"


# One event per (time, event key, article): a version is its event.
_VERSIONS = st.dictionaries(
    st.tuples(
        st.integers(min_value=0, max_value=5),
        st.sampled_from(["a", "b"]),
        st.sampled_from(["a1", "a2"]),
    ),
    st.booleans(),
    min_size=1,
    max_size=12,
)


@given(_VERSIONS, st.randoms(use_true_random=False))
def test_order_and_duplicates_do_not_change_the_outcome(
    specs: dict[tuple[int, str, str], bool], shuffle: random.Random
) -> None:
    versions = [
        article(s, key=k, article_id=a, active=active, title=f"{s}{k}{active}")
        for (s, k, a), active in specs.items()
    ]
    reordered = [*versions, *versions[: len(versions) // 2]]
    shuffle.shuffle(reordered)
    assert plan_changes(reordered, {}, model=MODEL) == plan_changes(versions, {}, model=MODEL)
    # Split into two batches, the second against what the first stored: the same winners.
    half = len(reordered) // 2
    first = plan_changes(reordered[:half], {}, model=MODEL)
    known = {c.key: stored(c.article) for c in first}
    second = {c.key: c.article for c in plan_changes(reordered[half:], known, model=MODEL)}
    final = {key: second.get(key, a) for key, a in ((c.key, c.article) for c in first)}
    final.update(second)
    assert final == {c.key: c.article for c in plan_changes(versions, {}, model=MODEL)}
