"""Pseudonymisation with stable placeholders, and its inverse. Pure functions and dataclasses, no I/O.

Within one conversation the same value always becomes the same placeholder (`<PERSON_1>`,
`<EMAIL_1>`, `<PHONE_2>` ...): the caller keeps the mapping (original value -> placeholder) between
turns; the storage layer persists it encrypted with the vault. New values get the next free number
of their kind. `restore` puts the originals back into a text written with the placeholders.

Written-differently forms of one value share a placeholder: `+47 912 34 567` and `91234567`'s
digits differ, so they do not, but `John Smith`/`john  smith` and `A@B.com`/`a@b.com` do.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Entity type -> placeholder stem. Unknown types use the type name itself.
PLACEHOLDER_STEMS: dict[str, str] = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "ADDRESS": "ADDRESS",
    "LOCATION": "LOCATION",
    "ORDER_NUMBER": "ORDER",
    "ACCOUNT_NUMBER": "ACCOUNT",
    "US_SSN": "SSN",
    "NATIONAL_ID": "NATIONAL_ID",
    "IP_ADDRESS": "IP",
    "DATE_OF_BIRTH": "DOB",
}

# A placeholder as we write it, and as a model or an outside AI tool may echo it: inner spaces, any case
# ("< PHONE_1 >", "<email_1>").
PLACEHOLDER_RE = re.compile(r"<\s*([A-Za-z][A-Za-z_]*?_\d{1,6})\s*>")
OUR_PLACEHOLDER_RE = re.compile(r"^<([A-Z][A-Z_]*?)_(\d{1,6})>$")
# Placeholder look-alikes typed by a customer are defused so `restore` never expands them.
_LOOKALIKE_RE = re.compile(r"<(\s*[A-Za-z][A-Za-z_]*_\d{1,6}\s*)>")

# Types whose canonical form ignores everything but letters and digits (formatting differs freely).
_ALNUM_TYPES = {
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "NATIONAL_ID",
    "ORDER_NUMBER",
    "ACCOUNT_NUMBER",
}


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One piece of personal data found in a text: its entity type and character range."""

    type: str
    start: int
    end: int
    score: float

    def to_contract(self) -> dict[str, object]:
        """The shape `safedesk scan` publishes: {"type","start","end","score"}."""
        return {"type": self.type, "start": self.start, "end": self.end, "score": round(float(self.score), 4)}


@dataclass(frozen=True, slots=True)
class Redaction:
    """A redacted text and the conversation's mapping after it (original value -> placeholder).

    The mapping stays one-to-one: a new spelling of a known value reuses its placeholder but adds no
    entry, so a store keyed by (conversation, placeholder) never sees a placeholder twice.
    """

    text: str
    mapping: dict[str, str] = field(default_factory=dict)
    # The placeholders used in this text, in order of appearance (with repeats).
    placeholders: tuple[str, ...] = ()
    # Entries created by this text (original -> new placeholder): what the caller must persist.
    new_entries: dict[str, str] = field(default_factory=dict)


SpanLike = PiiSpan | tuple[str, int, int] | tuple[str, int, int, float]


def as_span(span: SpanLike) -> PiiSpan:
    """A `PiiSpan` from a `PiiSpan` or a `(type, start, end[, score])` tuple."""
    if isinstance(span, PiiSpan):
        return span
    entity_type, start, end, *rest = span
    return PiiSpan(str(entity_type), int(start), int(end), float(rest[0]) if rest else 1.0)


def placeholder_stem(entity_type: str) -> str:
    return PLACEHOLDER_STEMS.get(entity_type, re.sub(r"[^A-Z_]", "_", entity_type.upper()) or "PII")


def canonical(entity_type: str, value: str) -> str:
    """The form two spellings of one value share (same canonical -> same placeholder)."""
    text = unicodedata.normalize("NFKC", value)
    if entity_type in _ALNUM_TYPES:
        return "".join(ch for ch in text if ch.isalnum()).upper()
    return " ".join(text.casefold().split())


def _resolve_overlaps(spans: Sequence[PiiSpan], length: int) -> list[PiiSpan]:
    """Clip spans to the text and keep a non-overlapping set (longer, then higher-scored, first)."""
    clipped = []
    for span in spans:
        start, end = max(0, int(span.start)), min(length, int(span.end))
        if end > start:
            clipped.append(
                span if (start, end) == (span.start, span.end) else PiiSpan(span.type, start, end, span.score)
            )
    kept: list[PiiSpan] = []  # disjoint, sorted by start
    starts: list[int] = []
    for span in sorted(clipped, key=lambda s: (-(s.end - s.start), -s.score, s.start)):
        i = bisect.bisect_left(starts, span.end)
        if i > 0 and kept[i - 1].end > span.start:
            continue  # overlaps the kept span that starts last before this one ends
        kept.insert(i, span)
        starts.insert(i, span.start)
    return kept


def defuse_placeholders(text: str) -> str:
    """Turn placeholder look-alikes a customer typed (`<EMAIL_1>`) into `‹EMAIL_1›`, so they stay text."""
    return _LOOKALIKE_RE.sub(lambda m: f"‹{m.group(1)}›", text)


class Pseudonymizer:
    """Replace PII spans with stable per-conversation placeholders. Stateless: pass the mapping in."""

    def __init__(self, stems: Mapping[str, str] | None = None) -> None:
        self._stems = dict(PLACEHOLDER_STEMS if stems is None else stems)

    def stem(self, entity_type: str) -> str:
        return self._stems.get(entity_type) or placeholder_stem(entity_type)

    def redact(self, text: str, spans: Sequence[SpanLike], mapping: Mapping[str, str] | None = None) -> Redaction:
        """Redacted text plus the updated mapping; `mapping` itself is not modified.

        `spans` are `PiiSpan`s or `(type, start, end[, score])` tuples, in any order; overlapping
        ones are settled (longer first).
        """
        updated: dict[str, str] = dict(mapping or {})
        created: dict[str, str] = {}
        # Canonical form per (stem, canonical value) -> placeholder, and the next number per stem.
        by_canonical: dict[tuple[str, str], str] = {}
        next_number: dict[str, int] = {}
        for value, placeholder in updated.items():
            match = OUR_PLACEHOLDER_RE.match(placeholder)
            if not match:
                continue
            stem, number = match.group(1), int(match.group(2))
            next_number[stem] = max(next_number.get(stem, 1), number + 1)
            type_of_stem = next((t for t, s in self._stems.items() if s == stem), stem)
            by_canonical.setdefault((stem, canonical(type_of_stem, value)), placeholder)

        pieces: list[str] = []
        used: list[str] = []
        cursor = 0
        for span in _resolve_overlaps([as_span(sp) for sp in spans], len(text)):
            value = text[span.start : span.end]
            stem = self.stem(span.type)
            # The same text always gets the same placeholder, even if found as another type this time.
            placeholder = updated.get(value)
            if placeholder is None:
                key = (stem, canonical(span.type, value))
                placeholder = by_canonical.get(key)
                if placeholder is None:
                    number = next_number.get(stem, 1)
                    next_number[stem] = number + 1
                    placeholder = f"<{stem}_{number}>"
                    by_canonical[key] = placeholder
                    updated[value] = placeholder
                    created[value] = placeholder
            pieces.append(defuse_placeholders(text[cursor : span.start]))
            pieces.append(placeholder)
            used.append(placeholder)
            cursor = span.end
        pieces.append(defuse_placeholders(text[cursor:]))
        return Redaction(text="".join(pieces), mapping=updated, placeholders=tuple(used), new_entries=created)

    def pseudonymize(
        self, text: str, spans: Sequence[SpanLike], mapping: Mapping[str, str] | None = None
    ) -> tuple[str, dict[str, str]]:
        """`redact` as a pair: (redacted text, updated mapping original -> placeholder)."""
        result = self.redact(text, spans, mapping)
        return result.text, result.mapping


def pseudonymize(text: str, spans: Sequence[SpanLike], mapping: Mapping[str, str] | None = None) -> Redaction:
    """Shorthand for `Pseudonymizer().redact(...)`."""
    return Pseudonymizer().redact(text, spans, mapping)


def reverse_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    """Placeholder -> original value. When several spellings share one placeholder, the first wins."""
    out: dict[str, str] = {}
    for value, placeholder in mapping.items():
        out.setdefault(placeholder, value)
    return out


# How a placeholder reads in a reply to the customer: plain words, never the original (a name is left out).
_IN_WORDS = {
    "EMAIL": "your email address",
    "PHONE": "your phone number",
    "CARD": "your card",
    "IBAN": "your bank account",
    "ACCOUNT": "your account",
    "ADDRESS": "your address",
    "LOCATION": "your location",
    "ORDER": "your order",
    "DOB": "your date of birth",
}
_ANY_PLACEHOLDER = PLACEHOLDER_RE.pattern
_NAME = r"<\s*PERSON_\d{1,6}\s*>"
_SENTENCE_START = r"(^|[.!?][ \t]+|\n)"  # group 1: what comes before a sentence's first word
# "your order <ORDER_1>": the noun already says it.
_NAMED_THING_PLACEHOLDER_RE = re.compile(
    r"\b((?:order|card|e-?mail(?: address)?|phone(?: number)?|number|account|address|iban))[ \t]*" + _ANY_PLACEHOLDER,
    re.IGNORECASE,
)
# A name in brackets, or opening a sentence and followed by a comma: "(<PERSON_1>)", "<PERSON_1>, your ...".
_NAME_IN_BRACKETS_RE = re.compile(r"[ \t]*\([ \t]*" + _NAME + r"[ \t]*\)", re.IGNORECASE)
_NAME_OPENING_RE = re.compile(_SENTENCE_START + _NAME + r"[ \t]*,[ \t]*(\w)", re.IGNORECASE)
_NAME_SUBJECT_RE = re.compile(_SENTENCE_START + _NAME + r"(?=[ \t]+\w)", re.IGNORECASE)
_TITLED_NAME_RE = re.compile(_SENTENCE_START + r"?\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?[ \t]+" + _NAME, re.IGNORECASE)
# Anywhere else, with a comma before it that the sentence no longer needs when punctuation follows.
_NAME_ELSEWHERE_RE = re.compile(r"(,)?[ \t]*" + _NAME + r"(?=([,.!?;:)]?))", re.IGNORECASE)


def _drop_name(match: re.Match[str]) -> str:
    comma, punctuation_follows = match.group(1), bool(match.group(2))
    return "" if punctuation_follows or not comma else ","


def placeholders_in_words(text: str) -> str:
    """A reply as the customer reads it. A model sees only placeholders and may copy them ("Hi <PERSON_1>, we
    will write to <EMAIL_1>"): they become plain words ("Hi, we will write to your email address"), a name is
    left out. Nothing is restored, so a reply never carries a stored original, whoever asked for it. Text
    without a placeholder is returned as it is; the rewriting touches only the placeholders and the
    punctuation right beside them."""
    if not PLACEHOLDER_RE.search(text):
        return text
    text = re.sub(r"\bDear[ \t]+" + _NAME, "Hello", text, flags=re.IGNORECASE)  # "Dear <PERSON_1>," -> "Hello,"
    text = _NAME_IN_BRACKETS_RE.sub("", text)  # "Thank you (<PERSON_1>)." -> "Thank you."
    text = _TITLED_NAME_RE.sub(lambda m: "you" if m.group(1) is None else m.group(1) + "You", text)
    text = _NAME_OPENING_RE.sub(lambda m: m.group(1) + m.group(2).upper(), text)  # "<P>, your" -> "Your"
    text = _NAME_SUBJECT_RE.sub(lambda m: m.group(1) + "You", text)  # "<P> asked about" -> "You asked about"
    text = _NAME_ELSEWHERE_RE.sub(_drop_name, text)  # "Hi <P>, x" -> "Hi, x"; "sorry, <P>, but" -> "sorry, but"

    def in_words(match: re.Match[str]) -> str:
        stem = match.group(1).rsplit("_", 1)[0].upper()
        return _IN_WORDS.get(stem, "your details")

    text = _NAMED_THING_PLACEHOLDER_RE.sub(r"\1", text)  # "your order <ORDER_1>" -> "your order"
    text = PLACEHOLDER_RE.sub(in_words, text)
    # A sentence that now opens with "your ..." ("<EMAIL_1> is the address" -> "Your email address is ...").
    return re.sub(_SENTENCE_START + r"(your)\b", lambda m: m.group(1) + "Your", text)


def restore(text: str, mapping: Mapping[str, str]) -> str:
    """Put the original values back for every known placeholder; unknown placeholders stay as they are."""
    return restore_counted(text, mapping)[0]


def restore_counted(text: str, mapping: Mapping[str, str]) -> tuple[str, int]:
    """`restore`, and how many distinct placeholders were filled in. A placeholder is recognised whatever
    its case or the spaces inside its brackets."""
    originals = reverse_mapping(mapping)
    if not originals:
        return text, 0
    filled: set[str] = set()

    def put_back(match: re.Match[str]) -> str:
        placeholder = f"<{match.group(1).upper()}>"
        if placeholder not in originals:
            return match.group(0)
        filled.add(placeholder)
        return originals[placeholder]

    return PLACEHOLDER_RE.sub(put_back, text), len(filled)
