"""Knowledge articles cut into chunks small enough for the embedding model.

all-MiniLM-L6-v2 reads at most 256 word pieces and silently drops the rest, so an article is cut
into runs of whole sentences of at most `max_words` words (a word is about 1.3 word pieces); a
sentence longer than that is cut between words. Each chunk after the first starts with the
previous chunk's last sentence, when that is short, so an answer that spans the cut is still
found whole in one chunk.

A chunk is a window `[start, end)` of the article's words, so the cut is checkable: the windows
are in order, every word is in one, and consecutive windows meet or overlap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Changing the cut changes what is embedded: a new version re-embeds every stored article
# (streams.voicebot.knowledge.articles.content_hash).
CHUNKING_VERSION = 1
MAX_WORDS = 150
OVERLAP_WORDS = 30

# A sentence ends at . ! ? or … (and any closing quote or bracket) before white space; a blank
# line ends one too.
_SENTENCE_END = re.compile(r"[.!?…][\"'»)\]]*$")


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    start: int  # the first word, an index into the article's words
    end: int  # one past the last word
    text: str


def words_of(content: str) -> list[str]:
    return content.split()


def chunk_text(
    content: str, *, max_words: int = MAX_WORDS, overlap_words: int = OVERLAP_WORDS
) -> list[Chunk]:
    """The chunks of `content`, in order; none for text without words."""
    if max_words < 1 or overlap_words < 0:
        raise ValueError("max_words must be positive and overlap_words not negative")
    words = words_of(content)
    windows = _windows(_sentences(content, words), max_words, min(overlap_words, max_words - 1))
    return [
        Chunk(index=i, start=start, end=end, text=" ".join(words[start:end]))
        for i, (start, end) in enumerate(windows)
    ]


def _sentences(content: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """The sentences as word windows: a word ending a sentence closes it, and so does a blank
    line after it."""
    breaks = _paragraph_ends(content)
    sentences: list[tuple[int, int]] = []
    start = 0
    for i, word in enumerate(words):
        if _SENTENCE_END.search(word) or i in breaks:
            sentences.append((start, i + 1))
            start = i + 1
    if start < len(words):
        sentences.append((start, len(words)))
    return sentences


def _paragraph_ends(content: str) -> set[int]:
    """The indexes of the words that end a paragraph (followed by a blank line)."""
    ends: set[int] = set()
    count = 0
    for paragraph in re.split(r"\n\s*\n", content):
        count += len(paragraph.split())
        if count:
            ends.add(count - 1)
    return ends


def _windows(
    sentences: Sequence[tuple[int, int]], max_words: int, overlap_words: int
) -> list[tuple[int, int]]:
    """Packs whole sentences into windows of at most `max_words`; cuts longer ones."""
    pieces = [
        (s, min(s + max_words, end))
        for start, end in sentences
        for s in range(start, end, max_words)
    ]
    windows: list[tuple[int, int]] = []
    start = end = 0
    last_piece: tuple[int, int] | None = None
    for piece_start, piece_end in pieces:
        if end > start and piece_end - start > max_words:
            windows.append((start, end))
            # Carry the last sentence over when it is short and leaves room for this one.
            assert last_piece is not None
            carried = last_piece[1] - last_piece[0]
            if carried <= overlap_words and carried + piece_end - piece_start <= max_words:
                start = last_piece[0]
            else:
                start = piece_start
        elif end == start:
            start = piece_start
        end = piece_end
        last_piece = (piece_start, piece_end)
    if end > start:
        windows.append((start, end))
    return windows
