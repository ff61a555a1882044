"""Retrieval over PUBLIC knowledge only: BM25 + sentence embeddings, fused into a 0..1 confidence.

`PublicRetriever` drops every chunk whose access label is not PUBLIC in its constructor, before any
index is built, so internal and restricted text never enters the lexical index, the vector matrix or
the embedding cache, and no query can bring it back. `RetrievedChunk` refuses non-public chunks too.

The score of a chunk is a weighted sum of three signals, each on an absolute 0..1 scale, so that one
threshold means the same thing for every question:

- semantic (weight 0.6): cosine similarity between the query and the chunk, averaged over the whole
  chunk and its best-matching "view" (its heading, or one of its sentences / list items), mapped
  linearly from [SEM_FLOOR, SEM_CEIL] = [0.30, 0.80] to [0, 1]. MiniLM puts unrelated text at
  0.0-0.3 and paraphrases of the same question at 0.6-0.9;
- coverage (0.3): the IDF-weighted share of the query's terms that occur in the chunk (a term the
  knowledge never uses counts with the highest IDF, so "helicopters" pulls the score down);
- BM25 relative to the best chunk for this query (0.1; a ranking signal only, as it is relative).

Without an embedder the score is lexical only: 0.9 coverage + 0.1 BM25.

Calibration on the demo shop (questions written for the purpose; a held-out set in brackets): with
the default threshold 0.35 the hybrid score answers 95% (91%) of covered questions and refuses 89%
(83%) of uncovered ones; covered median 0.69 (0.64), uncovered median 0.21 (0.24). Lexical-only:
95% (94%) answered, 69% (62%) refused - it cannot tell "Do you sell helicopters?" from "Do you sell
gift cards?", so run with embeddings in production.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from safedesk.domain import Access, KnowledgeChunk, RetrievedChunk
from safedesk.knowledge.embeddings import TextEmbedder, embed_cached
from safedesk.knowledge.text import split_units, terms

SEM_FLOOR = 0.30
SEM_CEIL = 0.80
# A chunk one of whose sentences fits very well scores at least that sentence, less this: a phone number in a
# long "About us" paragraph is found for "What is your phone number?" (the average with the whole chunk,
# 0.35, fell below the floor of meaning).
BEST_VIEW_DISCOUNT = 0.15
HYBRID_WEIGHTS = {"semantic": 0.6, "coverage": 0.3, "bm25": 0.1}
LEXICAL_WEIGHTS = {"semantic": 0.0, "coverage": 0.9, "bm25": 0.1}


def index_text(chunk: KnowledgeChunk) -> str:
    """The text a chunk is indexed (and embedded) under: file title, heading, body."""
    head = chunk.title if chunk.heading in ("", chunk.title) else f"{chunk.title} - {chunk.heading}"
    return f"{head}\n{chunk.text}" if head else chunk.text


class PublicRetriever:
    """Search over the public chunks of `chunks`; everything else is discarded up front."""

    def __init__(
        self,
        chunks: Sequence[KnowledgeChunk],
        embedder: TextEmbedder | None = None,
        *,
        cache_dir: Path | None = None,
    ) -> None:
        # The one place knowledge enters an index: public chunks only. (`is` on the enum, not a
        # truthiness or string test, so a mislabelled chunk cannot slip through.)
        self.chunks: tuple[KnowledgeChunk, ...] = tuple(c for c in chunks if c.access is Access.PUBLIC)
        self.embedder = embedder
        texts = [index_text(c) for c in self.chunks]
        self._doc_terms = [terms(t) for t in texts]
        self._doc_term_sets = [frozenset(d) for d in self._doc_terms]
        df: Counter[str] = Counter()
        for term_set in self._doc_term_sets:
            df.update(term_set)
        n = len(self.chunks)
        # Lucene-style IDF (always > 0); a term no chunk contains gets the largest value.
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5) if n else 1.0
        self._bm25 = None
        if any(self._doc_terms):
            from rank_bm25 import BM25Okapi

            # rank_bm25 divides by the mean document length; empty documents are harmless otherwise.
            self._bm25 = BM25Okapi([d or ["\x00"] for d in self._doc_terms])
        # Vectors: for each chunk its full text, then its "title - heading" and each of its sentences
        # or list items (prefixed with the heading). `_view_starts[i]` is chunk i's first view.
        self._vectors: np.ndarray | None = None
        self._view_starts: np.ndarray | None = None
        if embedder is not None and self.chunks:
            views: list[str] = []
            starts: list[int] = []
            for chunk, text in zip(self.chunks, texts, strict=True):
                starts.append(len(views))
                views.extend(chunk_views(chunk, text))
            self._vectors = np.asarray(embed_cached(embedder, views, cache_dir), dtype=np.float32)
            self._view_starts = np.asarray(starts, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.chunks)

    @property
    def uses_embeddings(self) -> bool:
        return self._vectors is not None

    def search(self, query: str, k: int = 3) -> list[RetrievedChunk]:
        """The `k` best public chunks for `query`, best first, each with a 0..1 confidence."""
        if k <= 0 or not self.chunks or not query.strip():
            return []
        scores = self.scores(query)
        top = np.argsort(-scores, kind="stable")[:k]
        return [RetrievedChunk(self.chunks[i], round(float(scores[i]), 4)) for i in top]

    def scores(self, query: str) -> np.ndarray:
        """The fused confidence of every public chunk for `query` (in `self.chunks` order)."""
        features = self.features(query)
        weights = HYBRID_WEIGHTS if "semantic" in features else LEXICAL_WEIGHTS
        total = np.zeros(len(self.chunks), dtype=np.float64)
        for name, values in features.items():
            total += weights[name] * values
        return np.clip(total, 0.0, 1.0)

    def features(self, query: str) -> dict[str, np.ndarray]:
        """The separate 0..1 signals (semantic, coverage, bm25) for diagnostics and calibration."""
        n = len(self.chunks)
        q_terms = list(dict.fromkeys(terms(query)))
        coverage = np.zeros(n)
        bm25 = np.zeros(n)
        if q_terms:
            weights = {t: self._idf.get(t, self._unknown_idf) for t in q_terms}
            total = sum(weights.values())
            for i, term_set in enumerate(self._doc_term_sets):
                coverage[i] = sum(w for t, w in weights.items() if t in term_set) / total
            if self._bm25 is not None:
                raw = np.asarray(self._bm25.get_scores(q_terms), dtype=np.float64)
                best = raw.max() if raw.size else 0.0
                if best > 0:
                    bm25 = np.clip(raw / best, 0.0, 1.0)
        out = {"coverage": coverage, "bm25": bm25}
        if self._vectors is not None and self._view_starts is not None and self.embedder is not None:
            q_vec = np.asarray(self.embedder.embed([query])[0], dtype=np.float32)
            cosine = self._vectors @ q_vec
            full = cosine[self._view_starts]
            best_view = np.maximum.reduceat(cosine, self._view_starts)
            # The whole chunk must fit, or one of its sentences must fit very well: average the two.
            raw_sem = np.maximum((full + best_view) / 2, best_view - BEST_VIEW_DISCOUNT)
            out["semantic"] = np.clip((raw_sem - SEM_FLOOR) / (SEM_CEIL - SEM_FLOOR), 0.0, 1.0)
        return out


def chunk_views(chunk: KnowledgeChunk, text: str | None = None) -> list[str]:
    """The texts embedded for a chunk: its index text first, then heading and sentence views."""
    head = chunk.title if chunk.heading in ("", chunk.title) else f"{chunk.title} - {chunk.heading}"
    views = [text if text is not None else index_text(chunk), head]
    prefix = f"{chunk.heading or chunk.title}: "
    views.extend(prefix + unit.text for unit in split_units(chunk.text))
    return views
