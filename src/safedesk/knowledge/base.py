"""KnowledgeBase: a business's knowledge directory, loaded, indexed (public part only) and refreshable.

    kb = KnowledgeBase.load(project.knowledge_dir, cache_dir=project.data_dir / "cache",
                            embedder=default_embedder())
    kb.retriever.search("How long does delivery take?")   # public chunks only
    kb.protected_chunks                                     # non-public, for the leakage guard only
    kb.refresh()                                            # re-ingest if any file changed

`embedder=None` gives a lexical-only retriever (BM25 + term coverage), which needs no model and is
calibrated to the same 0..1 confidence scale, though it separates covered from uncovered questions
less well than the hybrid one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from safedesk.canaries import load_or_create_canaries, plant
from safedesk.domain import KnowledgeChunk
from safedesk.errors import ConfigError
from safedesk.knowledge.embeddings import TextEmbedder, default_embedder
from safedesk.knowledge.ingest import load_knowledge
from safedesk.knowledge.retrieve import PublicRetriever

__all__ = ["KnowledgeBase", "default_embedder", "knowledge_fingerprint"]

log = logging.getLogger(__name__)


def knowledge_fingerprint(knowledge_dir: Path) -> str:
    """A digest of the names, sizes, modification and change times and inodes of every file under
    `knowledge_dir`. The change time (ctime) cannot be set back by a tool: `cp -p` over a page with one of
    the same size and modification time (a relabelled page) still changes the fingerprint."""
    digest = hashlib.sha256()
    knowledge_dir = Path(knowledge_dir)
    if knowledge_dir.is_dir():
        for path in sorted(knowledge_dir.rglob("*")):
            rel = path.relative_to(knowledge_dir)
            if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                continue
            try:
                stat = path.stat()
            except OSError:  # vanished between listing and stat: the next refresh sees it
                continue
            digest.update(
                f"{rel.as_posix()}\x00{stat.st_size}\x00{stat.st_mtime_ns}\x00{stat.st_ctime_ns}\x00{stat.st_ino}\n".encode()
            )
    else:
        digest.update(b"<missing>")
    return digest.hexdigest()


# Adds chunks the knowledge files do not hold, given the loaded ones (see knowledge/business_facts.py).
Supplement = Callable[[tuple[KnowledgeChunk, ...]], Sequence[KnowledgeChunk]]


class KnowledgeBase:
    """All chunks of a knowledge directory, with a retriever over the public ones."""

    def __init__(
        self,
        knowledge_dir: Path,
        chunks: Sequence[KnowledgeChunk],
        *,
        cache_dir: Path | None = None,
        embedder: TextEmbedder | None = None,
        fingerprint: str = "",
        canary_dir: Path | None = None,
        supplement: Supplement | None = None,
    ) -> None:
        self.knowledge_dir = Path(knowledge_dir)
        self.supplement = supplement
        self.canary_dir = Path(canary_dir) if canary_dir is not None else None
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.embedder = embedder
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self._install(tuple(chunks), fingerprint)

    @classmethod
    def load(
        cls,
        knowledge_dir: Path,
        cache_dir: Path | None = None,
        embedder: TextEmbedder | None = None,
        canary_dir: Path | None = None,
        supplement: Supplement | None = None,
    ) -> KnowledgeBase:
        """Ingest `knowledge_dir`. Raises `ConfigError` (naming the file) on a bad label or file.

        With `canary_dir`, every non-public chunk gets its file's canary token planted (tokens kept
        in canary_dir/canaries.json), so a leak of protected text is recognisable anywhere. `supplement`
        may add chunks the files do not hold (the configured opening hours), on every (re)load."""
        fingerprint = knowledge_fingerprint(knowledge_dir)
        chunks = load_knowledge(knowledge_dir)
        return cls(
            knowledge_dir,
            chunks,
            cache_dir=cache_dir,
            embedder=embedder,
            fingerprint=fingerprint,
            canary_dir=canary_dir,
            supplement=supplement,
        )

    def _plant_canaries(self, chunks: tuple[KnowledgeChunk, ...]) -> tuple[KnowledgeChunk, ...]:
        if self.canary_dir is None:
            return chunks
        tokens = load_or_create_canaries(self.canary_dir, sorted({c.source for c in chunks if not c.is_public}))
        return tuple(c if c.is_public else replace(c, text=plant(c.text, tokens[c.source])) for c in chunks)

    def _install(self, chunks: tuple[KnowledgeChunk, ...], fingerprint: str) -> None:
        if self.supplement is not None:
            chunks = tuple(self.supplement(chunks))
        chunks = self._plant_canaries(chunks)
        retriever = PublicRetriever(chunks, self.embedder, cache_dir=self.cache_dir)
        # Swap everything at once so a concurrent reader never sees chunks and index out of step.
        self._state = (chunks, retriever, tuple(c for c in chunks if not c.is_public), fingerprint)

    @property
    def chunks(self) -> tuple[KnowledgeChunk, ...]:
        """Every chunk, public or not (staff tools, leakage checks). Never hand these to a responder."""
        return self._state[0]

    @property
    def retriever(self) -> PublicRetriever:
        """Search over the public chunks only."""
        return self._state[1]

    @property
    def protected_chunks(self) -> tuple[KnowledgeChunk, ...]:
        """Internal and restricted chunks, for the leakage guard. Never for a responder."""
        return self._state[2]

    @property
    def public_chunks(self) -> tuple[KnowledgeChunk, ...]:
        return self.retriever.chunks

    @property
    def fingerprint(self) -> str:
        return self._state[3]

    def public_titles(self) -> list[str]:
        """Titles of the public knowledge files, in file order, without duplicates."""
        return list(dict.fromkeys(c.title for c in self.retriever.chunks))

    def refresh(self, *, force: bool = False) -> bool:
        """Re-ingest when any file was added, removed or changed (or always, with `force`); returns whether
        it did.

        If the changed directory does not load (a bad label, broken front matter, an unreadable
        file), this fails closed: the retriever is emptied, so nothing stale is served (the broken
        file may be a page that was just relabelled `internal`), `last_error` says why, and the
        `ConfigError` is raised once. Until the files change again, refresh() returns False and the
        desk answers nothing from knowledge (so customers are handed to staff). Protected chunks are
        kept for the leakage guard.
        """
        with self._lock:
            fingerprint = knowledge_fingerprint(self.knowledge_dir)
            if fingerprint == self.fingerprint and not force:
                return False
            try:
                chunks = tuple(load_knowledge(self.knowledge_dir))
            except ConfigError as exc:
                log.error("knowledge not reloaded, answering from no public knowledge until fixed: %s", exc)
                self.last_error = str(exc)
                empty = PublicRetriever((), self.embedder, cache_dir=self.cache_dir)
                self._state = ((), empty, self.protected_chunks, fingerprint)
                raise
            self._install(chunks, fingerprint)
            self.last_error = None
            return True
