"""scikit-learn's `HashingVectorizer.transform`, rebuilt with numpy and `mmh3`, for the guards' models.

Importing scikit-learn costs about 150 MB of resident memory (scipy and friends), and the guards only
need its stateless feature hashing at run time. `HashingVectorizer` below takes the same keyword
parameters (the subset the models use; anything else is refused, never silently ignored) and gives the
same numbers: the same preprocessing (`lowercase`, `strip_accents`), the same tokens (`token_pattern`
word n-grams; `char` n-grams and padded `char_wb` n-grams over whitespace-normalised text), the same
MurmurHash3 buckets (seed 0 over the UTF-8 bytes, `abs(h) % n_features`, and scikit-learn's special case
for h = -2**31), `alternate_sign`, `binary` and the `l1` / `l2` row norm computed as its Cython code
does (in float64, stored in `dtype`). tests/test_hashing.py compares it with scikit-learn entry by entry.

Nothing here imports scikit-learn or scipy; `transform` imports scipy when called (training, tests).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import mmh3
import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["HashingVectorizer", "strip_accents_ascii", "strip_accents_unicode"]

_INT32_MIN = -2147483648
# scikit-learn's `_VectorizerMixin._white_spaces`: runs of two or more whitespace characters become one
# space before char n-grams (a single tab or newline stays as it is).
_WHITE_SPACES = re.compile(r"\s\s+")
_EMPTY_INDEX = np.zeros(0, dtype=np.int64)


def strip_accents_unicode(s: str) -> str:
    """As `sklearn.feature_extraction.text.strip_accents_unicode`: NFKD without combining marks."""
    if s.isascii():
        return s
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def strip_accents_ascii(s: str) -> str:
    """As `sklearn.feature_extraction.text.strip_accents_ascii`: NFKD, non-ASCII dropped."""
    return unicodedata.normalize("NFKD", s).encode("ASCII", "ignore").decode("ASCII")


_ACCENTS = {None: None, "ascii": strip_accents_ascii, "unicode": strip_accents_unicode}


def _hash_utf8(token: str) -> int:
    # mmh3.hash(str) crashes the interpreter on a lone surrogate; the bytes route raises
    # UnicodeEncodeError instead, exactly where scikit-learn raises it.
    return mmh3.hash(token.encode("utf-8"), 0, True)


class HashingVectorizer:
    """A stateless text-to-hashed-features transformer, numerically identical to scikit-learn's
    `HashingVectorizer` with the same parameters (see the module docstring for the supported subset)."""

    def __init__(
        self,
        *,
        input: str = "content",
        encoding: str = "utf-8",
        decode_error: str = "strict",
        strip_accents: str | None = None,
        lowercase: bool = True,
        preprocessor: None = None,
        tokenizer: None = None,
        stop_words: None = None,
        token_pattern: str = r"(?u)\b\w\w+\b",  # noqa: S107 - a regex, not a password
        ngram_range: tuple[int, int] = (1, 1),
        analyzer: str = "word",
        n_features: int = 2**20,
        binary: bool = False,
        norm: str | None = "l2",
        alternate_sign: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        if input != "content":
            raise ValueError(f"input={input!r} is not supported (only 'content')")
        if preprocessor is not None or tokenizer is not None or stop_words is not None:
            raise ValueError("custom preprocessor, tokenizer and stop_words are not supported")
        if analyzer not in ("word", "char", "char_wb"):
            raise ValueError(f"{analyzer!r} is not a valid tokenization scheme/analyzer")
        if strip_accents not in _ACCENTS:
            raise ValueError(f'Invalid value for "strip_accents": {strip_accents}')
        min_n, max_n = (int(x) for x in ngram_range)
        if min_n > max_n or min_n < 1:
            raise ValueError(f"Invalid value for ngram_range={tuple(ngram_range)!r}")
        if isinstance(n_features, bool) or int(n_features) != n_features or not 1 <= n_features <= 2**31 - 1:
            raise ValueError(f"n_features must be an integer in [1, 2**31 - 1], got {n_features!r}")
        if norm not in (None, "l1", "l2"):
            raise ValueError(f"norm must be 'l1', 'l2' or None, got {norm!r}")
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        self.encoding = encoding
        self.decode_error = decode_error
        self.strip_accents = strip_accents
        self.lowercase = bool(lowercase)
        self.token_pattern = token_pattern
        self.ngram_range = (min_n, max_n)
        self.analyzer = analyzer
        self.n_features = int(n_features)
        self.binary = bool(binary)
        self.norm = norm
        self.alternate_sign = bool(alternate_sign)
        # The index scikit-learn gives h = -2**31 (it has no abs in int32).
        self._int_min_index = (2147483647 - (self.n_features - 1)) % self.n_features
        self._accents = _ACCENTS[strip_accents]
        if analyzer == "word":
            pattern = re.compile(token_pattern)
            if pattern.groups > 1:
                raise ValueError("More than 1 capturing group in token pattern; only one may be captured.")
            self._tokens = partial(self._word_ngrams, pattern.findall)
        elif analyzer == "char":
            self._tokens = self._char_ngrams
        else:
            self._tokens = self._char_wb_ngrams

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> HashingVectorizer:
        """From JSON parameters, as stored in a model's metadata (lists become tuples)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})

    # --- text to tokens (scikit-learn's build_analyzer) ------------------------------------------------

    def preprocess(self, doc: str | bytes) -> str:
        if isinstance(doc, bytes):
            doc = doc.decode(self.encoding, self.decode_error)
        if not isinstance(doc, str):
            raise ValueError(f"expected a str or bytes document, got {type(doc).__name__}")
        if self.lowercase:
            doc = doc.lower()
        if self._accents is not None:
            doc = self._accents(doc)
        return doc

    def analyze(self, doc: str | bytes) -> list[str]:
        """The tokens (n-grams) of one document, as scikit-learn's `build_analyzer()(doc)`."""
        return self._tokens(self.preprocess(doc))

    def _word_ngrams(self, tokenize: Any, text: str) -> list[str]:
        tokens = tokenize(text)
        min_n, max_n = self.ngram_range
        if max_n == 1:
            return tokens
        original = tokens
        if min_n == 1:
            tokens = list(original)
            min_n += 1
        else:
            tokens = []
        count = len(original)
        for n in range(min_n, min(max_n + 1, count + 1)):
            tokens.extend(" ".join(original[i : i + n]) for i in range(count - n + 1))
        return tokens

    def _char_ngrams(self, text: str) -> list[str]:
        text = _WHITE_SPACES.sub(" ", text)
        size = len(text)
        min_n, max_n = self.ngram_range
        if min_n == 1:
            ngrams = list(text)
            min_n += 1
        else:
            ngrams = []
        for n in range(min_n, min(max_n + 1, size + 1)):
            ngrams.extend(text[i : i + n] for i in range(size - n + 1))
        return ngrams

    def _char_wb_ngrams(self, text: str) -> list[str]:
        text = _WHITE_SPACES.sub(" ", text)
        min_n, max_n = self.ngram_range
        ngrams: list[str] = []
        append = ngrams.append
        for w in text.split():
            w = " " + w + " "
            size = len(w)
            for n in range(min_n, max_n + 1):
                offset = 0
                append(w[offset : offset + n])
                while offset + n < size:
                    offset += 1
                    append(w[offset : offset + n])
                if offset == 0:  # a short word (size <= n) is counted once
                    break
        return ngrams

    # --- tokens to a sparse row -------------------------------------------------------------------

    def row(self, doc: str | bytes, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """One document as a sparse row: (sorted int64 column indices, values in `dtype`).

        Entries are exactly scikit-learn's (including explicit zeros where alternating signs cancel).
        `scale` multiplies the normalised values in float64 before the cast to `dtype` (1.0 leaves
        them exactly as scikit-learn's)."""
        text = self.preprocess(doc)
        tokens = self._tokens(text)
        if not tokens:
            return _EMPTY_INDEX, np.zeros(0, dtype=self.dtype)
        counts = Counter(tokens)
        size = len(counts)
        safe = text.isascii()
        if not safe:
            try:
                text.encode("utf-8")
                safe = True
            except UnicodeEncodeError:
                pass
        hashes = np.fromiter(map(mmh3.hash if safe else _hash_utf8, counts), dtype=np.int64, count=size)
        index = np.abs(hashes) % self.n_features
        index[hashes == _INT32_MIN] = self._int_min_index
        value = np.fromiter(counts.values(), dtype=np.float64, count=size)
        if self.alternate_sign:
            value[hashes < 0] *= -1.0
        order = np.argsort(index, kind="stable")
        index = index[order]
        value = value[order]
        if size > 1:
            starts = np.flatnonzero(np.diff(index)) + 1
            if len(starts) < size - 1:  # two or more tokens share a bucket: add them up
                starts = np.concatenate(([0], starts))
                index = index[starts]
                value = np.add.reduceat(value, starts)
        value = value.astype(self.dtype)
        if self.binary:
            value.fill(1)
        if self.norm is not None:
            # sklearn.utils.sparsefuncs_fast: the sum in float64 (squares in dtype), each value divided in float64.
            total = float(np.sum(np.abs(value) if self.norm == "l1" else value * value, dtype=np.float64))
            if total != 0.0:
                divisor = total if self.norm == "l1" else math.sqrt(total)
                value = value.astype(np.float64) / divisor
                if scale != 1.0:
                    value *= scale
                return index, value.astype(self.dtype)
        if scale != 1.0:
            value = (value.astype(np.float64) * scale).astype(self.dtype)
        return index, value

    def dot(self, docs: Sequence[str | bytes], weights: np.ndarray) -> np.ndarray:
        """`transform(docs) @ weights` for a float64 weight vector of length n_features, added up in the
        same order as scipy's CSR mat-vec (so the results are bit for bit the same)."""
        out = np.zeros(len(docs), dtype=np.float64)
        for i, doc in enumerate(docs):
            index, value = self.row(doc)
            if len(index):
                out[i] = np.add.accumulate(value.astype(np.float64) * weights[index])[-1]
        return out

    def transform(self, docs: Iterable[str | bytes]) -> sparse.csr_matrix:
        """A CSR matrix (n_docs x n_features, `dtype`) like scikit-learn's `transform`. Imports scipy."""
        from scipy import sparse

        if isinstance(docs, (str, bytes)):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        indptr = [0]
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for doc in docs:
            index, value = self.row(doc)
            indices.append(index)
            values.append(value)
            indptr.append(indptr[-1] + len(index))
        return sparse.csr_matrix(
            (
                np.concatenate(values) if values else np.zeros(0, dtype=self.dtype),
                np.concatenate(indices) if indices else _EMPTY_INDEX,
                np.array(indptr, dtype=np.int64),
            ),
            shape=(len(indptr) - 1, self.n_features),
            dtype=self.dtype,
        )
