"""The language guard: a message the safety checks cannot read goes to a person, never to a model.

The injection guard's rules and model, and the router, were built for a handful of languages. An attack
written in Zulu or Scots Gaelic slips past them (the benchmark shows it), and a genuine customer writing
in such a language cannot be answered well from the shop's pages anyway. So this guard identifies the
language (py3langid: a naive-Bayes byte n-gram model over 97 languages that ships inside its PyPI
package, loaded without pickle; its sha256 is checked at load, and its tables are unpacked once into
memory-mapped files, see `_langid_model`) and reports `unreadable_language` when a
message, or any long passage of it, is confidently in a language outside `readable`. The policy sends
such a turn to a person; it is not an accusation of attack.

Short texts are never judged (too few letters to tell a language), and what is not language at all
(links, addresses, encoded blobs, placeholders, numbers, table rules) is removed first, so base64 or a
table of figures is not mistaken for Polish.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safedesk.domain import Finding, Stage
from safedesk.errors import ConfigError
from safedesk.guards._langid_model import load_identifier
from safedesk.guards.base import GuardContext, option_path, register
from safedesk.integrity import file_sha256

# Languages the inbound guards were built and measured for (rules, synthetic training data, router
# cues): English, the Scandinavian languages, German, French and Spanish. langid names Norwegian "no"
# (Nynorsk "nn").
READABLE_LANGUAGES = ("en", "no", "nn", "da", "sv", "de", "fr", "es")
# The model file shipped by py3langid 0.4.0 (pinned in pyproject.toml).
PY3LANGID_MODEL_SHA256 = "f4f4a2c3465ca1f081541037f9cac23021d68151c2f709c55ae5eedfca522963"

MIN_LETTERS = 25  # fewer letters than this: no judgement
MIN_CONFIDENCE = 0.9  # probability that the text is in none of the readable languages
PASSAGE_CHARS = 300  # long texts are also judged passage by passage (an injected paragraph)
MAX_CHARS = 20_000  # beyond this only the start is judged; the message cap is far lower by default

_NOT_LANGUAGE_RE = re.compile(
    # links and addresses; an address is only looked for at the start of a run of non-spaces, without
    # backtracking: "\S+@" tried from every character of a long run ("a.a.a...") took seconds
    r"https?://\S+|www\.\S+|(?<!\S)[^\s@]*+@\S*"
    r"|<[A-Z_]+_\d+>"  # redaction placeholders
    r"|\b[A-Za-z0-9+/]{20,}={0,2}"  # base64-like blobs
    r"|\b(?:0x)?[0-9a-fA-F]{16,}\b"  # hex
    r"|[\d_]+"  # numbers
    r"|[^\w\s'’-]+",  # punctuation, symbols, table rules
)
_TABLE_ROW_RE = re.compile(r"^[^\n|]*\|[^\n|]*\|.*$", re.MULTILINE)
_SPACES_RE = re.compile(r"\s+")
_LETTER_RE = re.compile(r"[^\W\d_]")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?\n])\s+")

# Names for the languages a shop owner is likely to see in a reason; others are shown as their code.
_NAMES = {
    "zu": "Zulu", "xh": "Xhosa", "sq": "Albanian", "ga": "Irish", "gd": "Scots Gaelic", "cy": "Welsh",
    "it": "Italian", "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "fi": "Finnish", "is": "Icelandic",
    "ru": "Russian", "uk": "Ukrainian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic",
    "tr": "Turkish", "hi": "Hindi", "km": "Khmer", "th": "Thai", "vi": "Vietnamese", "et": "Estonian",
    "lt": "Lithuanian", "lv": "Latvian", "hu": "Hungarian", "cs": "Czech", "ro": "Romanian", "el": "Greek",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LanguageVerdict:
    language: str  # the most likely language of the judged text ("" when not judged)
    unreadable: float  # probability that it is in none of the readable languages
    judged: bool  # enough letters to judge
    passage: tuple[int, int] | None = None  # the unreadable passage of a long text, if that decided it

    @property
    def flagged(self) -> bool:
        return self.judged and self.unreadable >= MIN_CONFIDENCE


_identifier: Any = None
_identifier_key: tuple[str, str] | None = None
_lock = threading.Lock()


def _load_identifier(model_path: Path | None, expected_sha256: str | None) -> Any:
    """The langid model, loaded once per process and checked against its sha256."""
    global _identifier, _identifier_key
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    path = Path(model_path) if model_path else Path(MODEL_DIR) / MODEL_FILE
    want = expected_sha256 or (PY3LANGID_MODEL_SHA256 if model_path is None else None)
    key = (str(path), want or "")
    with _lock:
        if _identifier is None or _identifier_key != key:
            if not path.is_file():
                raise ConfigError(f"language model not found: {path}")
            actual = file_sha256(path)
            if want and actual != want:
                raise ConfigError(f"{path}: sha256 does not match the expected {want}")
            try:
                _identifier = load_identifier(path.absolute(), actual)
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigError(f"language model {path} could not be loaded: {exc}") from None
            _identifier_key = key
        return _identifier


def language_text(text: str) -> str:
    """Only the words: compatibility forms folded (fullwidth letters), invisible characters dropped, and
    what is not language (links, blobs, numbers, symbols) removed. Accents are kept: they tell languages
    apart. Text spelled out letter by letter ("i g n o r e") has no words to judge and comes back empty.
    """
    text = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    text = _TABLE_ROW_RE.sub(" ", text)  # cells are names and figures, not sentences
    words = _SPACES_RE.sub(" ", _NOT_LANGUAGE_RE.sub(" ", text)).strip().split(" ")
    if len(words) >= 6 and sum(len(w) == 1 for w in words) > len(words) / 2:
        return ""
    return " ".join(words)


def _passages(text: str) -> list[tuple[int, int]]:
    """Sentence-aligned passages of about PASSAGE_CHARS characters."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END_RE.finditer(text):
        if m.start() - start >= PASSAGE_CHARS:
            spans.append((start, m.start()))
            start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


class LanguageIdentifierGuard:
    """Judges whether text is in a language the guards can read. Thread-safe after construction."""

    def __init__(
        self,
        readable: Sequence[str] = READABLE_LANGUAGES,
        model_path: Path | None = None,
        expected_sha256: str | None = None,
    ) -> None:
        self._identifier = _load_identifier(model_path, expected_sha256)
        if isinstance(readable, str) or not readable:
            raise ConfigError("language guard: `readable` must be a non-empty list of language codes, e.g. [en, no]")
        known = set(self._identifier.nb_classes)
        unknown = sorted(set(readable) - known)
        if unknown:
            raise ConfigError(f"language guard: unknown language codes {', '.join(unknown)}")
        self.readable = frozenset(readable)

    def _judge(self, text: str) -> tuple[str, float, bool]:
        words = language_text(text)
        if len(_LETTER_RE.findall(words)) < MIN_LETTERS:
            return "", 0.0, False
        ranked = self._identifier.rank(words)
        # "zxx" is langid's "not a language": left out, the rest renormalised.
        ranked = [(lang, p) for lang, p in ranked if lang != "zxx"]
        total = sum(p for _, p in ranked) or 1.0
        unreadable = sum(p for lang, p in ranked if lang not in self.readable) / total
        return ranked[0][0], unreadable, True

    def judge(self, text: str) -> LanguageVerdict:
        text = text[:MAX_CHARS]
        language, unreadable, judged = self._judge(text)
        verdict = LanguageVerdict(language, unreadable, judged)
        if verdict.flagged or len(text) <= PASSAGE_CHARS:
            return verdict
        for a, b in _passages(text):
            lang, p, ok = self._judge(text[a:b])
            if ok and p >= MIN_CONFIDENCE:
                return LanguageVerdict(lang, p, True, (a, b))
        return verdict


def language_name(code: str) -> str:
    return _NAMES.get(code, code)


@register("language")
class LanguageGuard:
    """Inbound guard: `unreadable_language` findings for text the other guards cannot read."""

    stage = Stage.INBOUND

    def __init__(
        self,
        name: str = "language",
        project_dir: Path | None = None,
        readable: Sequence[str] = READABLE_LANGUAGES,
        model_path: str | None = None,
        model_sha256: str | None = None,
    ) -> None:
        self.name = name
        self._identifier = LanguageIdentifierGuard(readable, option_path(model_path, project_dir), model_sha256)

    def check(self, text: str, ctx: GuardContext) -> list[Finding]:
        verdict = self._identifier.judge(text)
        if not verdict.flagged:
            return []
        where = "part of the message is" if verdict.passage else "the message is"
        return [
            Finding(
                guard=self.name,
                kind="unreadable_language",
                score=round(verdict.unreadable, 4),
                reason=f"{where} in {language_name(verdict.language)}, which the safety checks cannot read: "
                "a person answers",
                label=verdict.language,
                span=verdict.passage,
            )
        ]
