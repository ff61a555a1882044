"""Knowledge: ingest labelled files (Markdown/HTML/PDF), chunk by heading, retrieve PUBLIC chunks only.

- `load_knowledge(dir)` -> every chunk, each with title, heading, source and access label.
- `KnowledgeBase.load(dir, cache_dir, embedder)` -> `.retriever` (public only), `.protected_chunks`
  (non-public, for the leakage guard), `.refresh()`.
- `PublicRetriever(chunks, embedder)` -> `.search(query, k)` with a 0..1 confidence per chunk.
- `default_embedder()` -> the shared, hash-checked all-MiniLM-L6-v2 int8 ONNX embedder.
"""

from safedesk.knowledge.base import KnowledgeBase, knowledge_fingerprint
from safedesk.knowledge.embeddings import Embedder, TextEmbedder, default_embedder
from safedesk.knowledge.ingest import load_knowledge
from safedesk.knowledge.retrieve import PublicRetriever

__all__ = [
    "Embedder",
    "KnowledgeBase",
    "PublicRetriever",
    "TextEmbedder",
    "default_embedder",
    "knowledge_fingerprint",
    "load_knowledge",
]
