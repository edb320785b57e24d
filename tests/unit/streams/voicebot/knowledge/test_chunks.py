"""Articles cut into chunks: every word in order, none too long, sentences kept whole."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from streams.voicebot.knowledge.chunks import chunk_text, words_of

_WORD = st.text(alphabet="abcdefgh", min_size=1, max_size=6)
_ENDING = st.sampled_from(["", "", "", ".", "?", "!"])
_TOKEN = st.tuples(_WORD, _ENDING).map("".join)
_SPACE = st.sampled_from([" ", " ", "\n", "\n\n", "  \t"])


@st.composite
def _texts(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(_TOKEN, max_size=400))
    return "".join(token + draw(_SPACE) for token in tokens)


@given(_texts(), st.integers(min_value=1, max_value=60), st.integers(min_value=0, max_value=20))
def test_the_chunks_cover_every_word_in_order_within_the_size(
    text: str, max_words: int, overlap: int
) -> None:
    words = words_of(text)
    chunks = chunk_text(text, max_words=max_words, overlap_words=overlap)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    if not words:
        assert chunks == []
        return
    assert chunks[0].start == 0 and chunks[-1].end == len(words)
    for chunk in chunks:
        assert 0 < chunk.end - chunk.start <= max_words
        assert chunk.text == " ".join(words[chunk.start : chunk.end])
    for before, after in pairwise(chunks):
        # In order, meeting or overlapping: no word is left out, none is taken twice over.
        assert before.start < after.start <= before.end < after.end
        assert before.end - after.start <= overlap


def test_a_short_article_is_one_chunk() -> None:
    (chunk,) = chunk_text("Winter tyres below 7 °C.  Studs are allowed\nfrom December.")
    assert chunk.text == "Winter tyres below 7 °C. Studs are allowed from December."


def test_sentences_stay_whole_and_a_short_last_sentence_is_carried_over() -> None:
    text = "One two three. Four five. Six seven eight nine."
    chunks = chunk_text(text, max_words=6, overlap_words=2)
    assert [c.text for c in chunks] == [
        "One two three. Four five.",
        "Four five. Six seven eight nine.",
    ]


def test_a_sentence_longer_than_a_chunk_is_cut_between_words() -> None:
    text = " ".join(f"w{i}" for i in range(10))
    chunks = chunk_text(text, max_words=4, overlap_words=0)
    assert [c.text for c in chunks] == ["w0 w1 w2 w3", "w4 w5 w6 w7", "w8 w9"]


def test_a_blank_line_ends_a_sentence() -> None:
    chunks = chunk_text("Opening hours\n\nMonday to Friday nine to six", max_words=6)
    assert [c.text for c in chunks] == ["Opening hours", "Monday to Friday nine to six"]


def test_text_without_words_has_no_chunk() -> None:
    assert chunk_text(" \n\t ") == []
