"""Grounding guard: every factual sentence of a draft must be supported by the public sources of
this reply (`ctx.sources`, the retrieved public chunks).

Two checks per factual sentence, both plain set work:

- `number`: every number, price, duration, percentage, date, time and day of the week must be one the
  sources state, in the best-matching source chunk (or another source chunk about the same thing).
  Forms are normalised: "2-4" = "2–4" = "two to four" = "between 2 and 4"; "kr" = "NOK" = "kroner";
  "2 pm" = "14:00"; "17 May" = "May 17th"; "Monday to Friday" covers Wednesday; a day a source lists
  as closed is not an opening day.
- `unsupported_sentence`: most content words of the sentence must appear in one source sentence (or
  the bulk of one source chunk), and the sentence must not flip the polarity of the source sentence
  it copies ("We ship to the United States" against "We do not ship to ... the United States").

Also `unsupported_sentence`: a capitalised name (place, brand, service) that neither the sources nor the
customer's message mention ("ships from our warehouse in Hamburg"), and a numberless cost claim where
the sources say free.

The desk's own boilerplate is not a claim: "(Source: ...)" lines, greetings, offers of a person,
"let me know ...". A draft with factual sentences and no sources at all is ungrounded; a draft longer
than `max_chars` (default 20,000) is `too_long` (replaced without a scan).

Known limits (word overlap, no model): a claim that contradicts a source with different words ("you
have to pay customs" against "there are no customs fees") can pass; a true fact from a public page
that retrieval did not return for this reply is replaced (the responder could not have known it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from safedesk.domain import Finding, KnowledgeChunk, Stage
from safedesk.guards._outbound_text import (
    WEEKDAYS,
    Quantity,
    content_stems,
    expand_contractions,
    extract,
    normalize,
    quantity_in,
    sentences,
)
from safedesk.guards.base import GuardContext, register

_SOURCE_LINE = re.compile(
    r"(?i)^[(\[]?\s*(?:sources?|kilder?|källa|källor|quelle|quellen|see|les mer|read more)\s*:"
    r"|^[(\[]\s*(?:source|kilde)"
)
_BOILERPLATE = re.compile(
    r"(?i)^(?:hi|hello|hey|dear|good\s+(?:morning|afternoon|evening)|hei|hej|hallo|god\s+dag|thanks|thank\s+you|"
    r"takk|tack|danke)\b[^.!?\n]{0,30}?(?:[,.!?]|$)"
    r"|\b(?:let\s+me\s+know|feel\s+free|(?:happy|glad)\s+to\s+help|hope\s+(?:this|that)\s+helps|anything\s+else|"
    r"do\s+not\s+hesitate|a\s+member\s+of\s+(?:our\s+|the\s+)?(?:staff|team)|(?:talk|speak|chat)\s+(?:to|with)\s+"
    r"(?:a|an|one\s+of\s+our)\s+(?:person|human|staff|agent|colleague)|type\s+\"?person\"?|i\s+am\s+(?:the|an|your)\s+"
    r"(?:ai\s+)?assistant|i'm\s+(?:the|an|your)\s+(?:ai\s+)?assistant|i\s+answer\s+from\s+the\s+shop's\s+published"
    r"|(?:would\s+you\s+like|do\s+you\s+want)\s+(?:me\s+)?to|is\s+there\s+anything|have\s+a\s+(?:nice|great|good)\s+day|"
    r"(?:best|kind)\s+regards|(?:here\s+is|here's)\s+what\s+(?:i\s+found|our\s+[\w\s]{1,30}\s+says)|"
    r"(?:from|according\s+to|on)\s+our\s+[\w\s-]{1,40}?\s+(?:page|section|policy|information)\s*[:,]?)"
)
_NEGATION = re.compile(
    r"(?i)\b(?:not|never|no|cannot|none|nor|without|ikke|aldri|inte|aldrig|nicht|kein\w*|nie)\b|n't\b"
)
# Words that turn the rest of a clause into an exclusion ("except Svalbard", "bortsett fra Svalbard").
_EXCEPT = re.compile(
    r"(?i)\b(?:except|excluding|apart\s+from|other\s+than|unntatt|bortsett\s+fra|utom|außer|ausgenommen)\b"
)
_CLOSED = re.compile(r"(?i)\b(?:closed|stengt|stängt|geschlossen|lukket)\b")
_OPEN = re.compile(r"(?i)\b(?:open\w*|available|answer\w*|åpen|åpent|öppet|öppen|geöffnet|staffed|working)\b")
_WEEKDAY_WORD = re.compile(rf"(?i)\b({'|'.join(WEEKDAYS)})(?:s|er|ar|e)?\b")
_FREE = re.compile(r"(?i)\b(?:free|gratis|kostnadsfri\w*|kostenlos|no\s+(?:charge|cost|fee)s?)\b")
_COSTS = re.compile(r"(?i)\b(?:costs?|fees?|charged?|charges|priced|koster|kostar|kostet|gebühr)\b")
_DURATIONS = frozenset({"minute", "hour", "day", "week", "month", "year", "weekend"})
_HEDGE_STEMS = frozenset({"think", "believ", "sur", "know", "guess", "mayb", "perhap", "probably", "great"})


@dataclass(frozen=True, slots=True)
class _SourceSentence:
    text: str
    stems: frozenset[str]
    negated: bool
    chunk: int
    # (stems, negated) per clause, split like a draft's clauses ("Bring it clean; we do not store ..."
    # is one positive and one negative claim): polarity is compared clause with clause.
    clauses: tuple[tuple[frozenset[str], bool], ...] = ()

    def negated_for(self, stems: frozenset[str], weights: dict[str, float], negated: bool) -> bool:
        """The polarity of the clause `stems` is most about (on a tie, the polarity `negated`)."""
        best_w, best_neg = -1.0, self.negated
        for clause_stems, clause_neg in self.clauses:
            w = sum(weights.get(x, 0.0) for x in stems & clause_stems)
            if w > best_w + 1e-9 or (abs(w - best_w) <= 1e-9 and clause_neg == negated):
                best_w, best_neg = w, clause_neg
        return best_neg


@dataclass(frozen=True, slots=True)
class _SourceChunk:
    name: str  # "Shipping › Delivery times"
    stems: frozenset[str]
    quantities: tuple[Quantity, ...]
    weekdays: frozenset[int]
    closed_days: frozenset[int]


@dataclass(frozen=True, slots=True)
class _Profile:
    chunks: tuple[_SourceChunk, ...]
    sentences: tuple[_SourceSentence, ...]
    quantities: tuple[Quantity, ...]
    weekdays: frozenset[int]
    text_lower: str
    df: dict[str, int]
    quotes: frozenset[str]  # every source sentence in `_quote_key` form
    denied_names: frozenset[str]  # names the sources mention only in a denial ("not to the United Kingdom")

    def weight(self, stem: str) -> float:
        """Rarer words weigh more ("customs" tells more than "delivery" which many sentences share)."""
        return math.log(1.0 + len(self.sentences) / (self.df.get(stem, 0) + 0.5))


@lru_cache(maxsize=4096)
def _chunk_profile(
    chunk: KnowledgeChunk,
) -> tuple[_SourceChunk, tuple[_SourceSentence, ...], str, frozenset[str], frozenset[str]]:
    """One public chunk, analysed once (the knowledge base has a few hundred at most): its profile, its
    sentences, its text, and the names it mentions only in denials ("but not to the United Kingdom") and
    in plain claims."""
    text = expand_contractions(normalize(chunk.text))
    heading = expand_contractions(normalize(chunk.heading or ""))
    title = normalize(chunk.title or "")
    stems = content_stems(text) | content_stems(heading) | content_stems(title)
    entities = extract(text)
    closed: set[int] = set()
    sents = []
    denied_names: set[str] = set()
    claimed_names: set[str] = set()
    heading_negated = bool(_NEGATION.search(heading))
    lead_negated = heading_negated
    for s in sentences(text):
        negated = bool(_NEGATION.search(s.text))
        if s.item:
            # "Products that cannot be returned:" / "- Gas canisters and fuel": the item is negated too.
            negated = negated or lead_negated
        else:
            lead_negated = negated if s.text.endswith(":") else heading_negated
        # A list item's clauses inherit the negation of their lead ("Products that cannot be returned:").
        inherited = negated and not _NEGATION.search(s.text)
        parts = [(c, inherited or bool(_NEGATION.search(c))) for c in _POLARITY_BREAK.split(s.text)]
        clauses = tuple((content_stems(c), clause_negated) for c, clause_negated in parts)
        sents.append(_SourceSentence(s.text, content_stems(s.text), negated, -1, clauses))
        for clause, clause_negated in parts:
            if clause_negated or _EXCEPT.search(clause):
                denied_names.update(_denied_in(clause))
            else:
                claimed_names.update(n.casefold() for n in _names(clause))
        if _CLOSED.search(s.text):
            closed |= extract(s.text).weekdays
    if heading:
        sents.append(_SourceSentence(heading, content_stems(heading), heading_negated, -1, ()))
    name = title if not heading or heading == title else f"{title} › {heading}"
    profile = _SourceChunk(name, stems, entities.quantities, entities.weekdays, frozenset(closed))
    text_lower = f"{title}\n{heading}\n{text}".casefold()
    return profile, tuple(sents), text_lower, frozenset(denied_names), frozenset(claimed_names)


@lru_cache(maxsize=256)
def _profile(sources: tuple[KnowledgeChunk, ...]) -> _Profile:
    """The public sources of one reply (keyed by the chunks, not their retrieval scores)."""
    chunks: list[_SourceChunk] = []
    sents: list[_SourceSentence] = []
    texts: list[str] = []
    denied: set[str] = set()
    claimed: set[str] = set()
    for i, chunk in enumerate(c for c in sources if c.is_public):
        profile, chunk_sentences, text_lower, denied_names, claimed_names = _chunk_profile(chunk)
        denied |= denied_names
        claimed |= claimed_names
        chunks.append(profile)
        sents += [replace(s, chunk=i) for s in chunk_sentences]
        texts.append(text_lower)
    df: dict[str, int] = {}
    for sent in sents:
        for stem in sent.stems:
            df[stem] = df.get(stem, 0) + 1
    return _Profile(
        tuple(chunks),
        tuple(sents),
        tuple(q for c in chunks for q in c.quantities),
        frozenset(d for c in chunks for d in c.weekdays),
        "\n".join(texts),
        df,
        frozenset(_quote_key(s.text) for s in sents),
        frozenset(denied - claimed),
    )


@register("grounding")
class GroundingGuard:
    """Replaces drafts that state numbers or facts the public sources of the reply do not support."""

    stage = Stage.OUTBOUND

    def __init__(
        self,
        name: str,
        project_dir: Path | None = None,
        *,
        min_support: float = 0.6,
        min_chunk_support: float = 0.75,
        max_findings: int = 5,
        max_chars: int = 20_000,
        **options: Any,
    ) -> None:
        if options:
            raise TypeError(f"unknown options: {', '.join(sorted(options))}")
        self.name = name
        self.project_dir = project_dir
        self.min_support = float(min_support)
        self.min_chunk_support = float(min_chunk_support)
        self.max_findings = int(max_findings)
        self.max_chars = int(max_chars)

    def check(self, text: str, ctx: GuardContext) -> list[Finding]:
        if not text or not text.strip():
            return []
        if len(text) > self.max_chars:
            reason = f"draft of {len(text)} characters is too long to verify (limit {self.max_chars})"
            return [Finding(self.name, "ungrounded", 1.0, reason, label="too_long")]
        draft = expand_contractions(normalize(text))
        profile = _profile(tuple(rc.chunk for rc in ctx.sources))
        known = f"{normalize(ctx.customer_text or '')}\n{normalize(ctx.business_name or '')}".casefold()
        findings: list[Finding] = []
        for sentence in sentences(draft):
            finding = self._check_sentence(sentence.text, profile, known)
            if finding is not None:
                findings.append(finding)
                if len(findings) >= self.max_findings:
                    break
        if findings and not profile.chunks:
            first = findings[0]
            return [
                Finding(
                    self.name,
                    "ungrounded",
                    1.0,
                    f"no published source for this reply, but it states facts ({first.reason.split(': ', 1)[-1]})",
                    label=first.label,
                )
            ]
        return findings

    # ---- one sentence ------------------------------------------------------------------------------

    def _check_sentence(self, raw: str, profile: _Profile, known: str) -> Finding | None:
        if _SOURCE_LINE.search(raw):
            return None
        text = raw
        for m in _BOILERPLATE.finditer(raw):
            text = text.replace(m.group(), " ")
        entities = extract(text)
        quantities = [q for q in entities.quantities if q.written or q.unit or q.kind != "num"]
        weekdays = entities.weekdays
        stems = content_stems(text) - _HEDGE_STEMS
        question = raw.rstrip().endswith("?")
        if not quantities and not weekdays and (len(stems) < 2 or question):
            return None
        shown = _clip(raw)
        if not profile.chunks:
            label = "number" if quantities or weekdays else "unsupported_sentence"
            return Finding(self.name, "ungrounded", 1.0, f"says '{shown}'", label=label)

        negated = _negated(text)
        best_cov, best_sent = _best_sentence(stems, profile, negated)
        top_cov = max((len(stems & s.stems) / len(stems) for s in profile.sentences), default=0.0) if stems else 0.0
        chunk_cov = _chunk_coverage(stems, profile)
        best_chunk = max(range(len(profile.chunks)), key=lambda i: chunk_cov[i])
        if best_sent is not None and best_cov >= chunk_cov[best_chunk] - 0.2:
            best_chunk = best_sent.chunk

        # Numbers, dates, times, days.
        for q in quantities:
            if self._quantity_supported(q, text, profile, chunk_cov, best_chunk, len(stems)):
                continue
            return Finding(self.name, "ungrounded", 0.9, self._number_reason(q, shown, profile, best_chunk), "number")
        for day in weekdays:
            if day not in profile.weekdays:
                return Finding(
                    self.name, "ungrounded", 0.9, f"says '{shown}' but no source mentions that day", label="number"
                )
        explicit = {WEEKDAYS[m.group(1).casefold()] for m in _WEEKDAY_WORD.finditer(text)}
        if explicit and not _CLOSED.search(text) and not negated and _OPEN.search(text):
            closed = set().union(*(c.closed_days for c in profile.chunks))
            if explicit & closed:
                name = next(c.name for c in profile.chunks if c.closed_days & explicit)
                return Finding(
                    self.name, "ungrounded", 0.9, f"says '{shown}' but {name} says that day is closed", label="number"
                )
        if question or len(stems) < 2:
            return None
        # "Returns from Norway are free" -> "Returns from Norway cost a fee": a numberless cost claim where
        # every source sentence about the same thing says free.
        free_claim = best_sent is not None and best_cov >= 0.5 and _FREE.search(best_sent.text)
        if free_claim and not quantities and not _FREE.search(text) and _COSTS.search(text) and not negated:
            agreeing = [
                x
                for x in profile.sentences
                if not _FREE.search(x.text) and len(stems & x.stems) / len(stems) >= max(0.5, best_cov - 0.1)
            ]
            if not agreeing:
                return Finding(
                    self.name,
                    "ungrounded",
                    0.8,
                    f"says '{shown}' but {profile.chunks[best_sent.chunk].name} says '{_clip(best_sent.text)}'",
                    label="unsupported_sentence",
                )

        # Names: a place, brand or service no source (and not the customer) mentions is invented.
        for name in _names(text):
            if name.casefold() not in profile.text_lower and name.casefold() not in known:
                return Finding(
                    self.name,
                    "ungrounded",
                    0.85,
                    f"says '{shown}' but no source of this reply mentions '{name}'",
                    label="unsupported_sentence",
                )

        # Content words.
        # Numbers that all check out against the chunk lend support to the words around them.
        relax = 0.2 if quantities else 0.0
        supported = top_cov >= self.min_support - relax or chunk_cov[best_chunk] >= self.min_chunk_support - relax
        if not supported:
            # A sentence may join facts of two sources ("Delivery takes 3-5 days, and a pickup point
            # costs 149 NOK"): then every clause must be supported on its own.
            clauses = [content_stems(c) - _HEDGE_STEMS for c in _CLAUSE_BREAK.split(text)]
            clauses = [c for c in clauses if len(c) >= 2]
            supported = len(clauses) > 1 and all(self._stems_supported(c, profile) for c in clauses)
        if not supported:
            closest = f" (closest: '{_clip(best_sent.text)}')" if best_sent is not None and best_cov > 0 else ""
            return Finding(
                self.name,
                "ungrounded",
                round(1.0 - max(top_cov, chunk_cov[best_chunk]), 4),
                f"says '{shown}' but no source of this reply supports it{closest}",
                label="unsupported_sentence",
            )
        # Polarity: copying a source sentence but dropping (or adding) its negation, clause by clause
        # ("We ship to X, but not to Y" holds a positive and a negative claim). A sentence quoted word for
        # word from a source says what the source says.
        if _quote_key(raw) in profile.quotes or _quote_key(text) in profile.quotes:
            return None
        # A name the sources mention only to deny it ("We ship to ..., but not to the United Kingdom"),
        # claimed without a denial ("We ship to Norway and the United Kingdom").
        parts = _POLARITY_BREAK.split(text)
        for clause in parts:
            if _negated(clause) or _EXCEPT.search(clause):
                continue
            denied = next((n for n in _names(clause) if n.casefold() in profile.denied_names), None)
            if denied is not None:
                where = next(
                    (x for x in profile.sentences if denied.casefold() in x.text.casefold() and x.negated), None
                )
                said = f" but {profile.chunks[where.chunk].name} says '{_clip(where.text)}'" if where else ""
                return Finding(self.name, "ungrounded", 0.8, f"says '{shown}'{said}", label="unsupported_sentence")
        clauses = [c for c in parts if len(content_stems(c) - _HEDGE_STEMS) >= 2]
        for clause in clauses if len(clauses) > 1 else [text]:
            contradicted = self._contradicted(clause, profile)
            if contradicted is not None:
                return Finding(
                    self.name,
                    "ungrounded",
                    0.8,
                    f"says '{shown}' but {profile.chunks[contradicted.chunk].name} says '{_clip(contradicted.text)}'",
                    label="unsupported_sentence",
                )
        return None

    def _contradicted(self, text: str, profile: _Profile) -> _SourceSentence | None:
        """The source sentence `text` copies with the opposite polarity, if any (and none agrees)."""
        stems = content_stems(text) - _HEDGE_STEMS
        negated = _negated(text)
        best_cov, best_sent = _best_sentence(stems, profile, negated)
        # A verbatim copy (a list item quoted without its heading) keeps the source's meaning.
        if best_sent is None or stems == best_sent.stems or best_cov < self.min_support:
            return None
        weights = {x: profile.weight(x) for x in stems}
        if best_sent.negated_for(stems, weights, negated) == negated:
            return None
        total = sum(weights.values())
        best_w = sum(weights[x] for x in stems & best_sent.stems) / total
        for s in profile.sentences:
            agrees = s.negated_for(stems, weights, negated) == negated
            if agrees and sum(weights[x] for x in stems & s.stems) / total >= 0.95 * best_w:
                return None
        return best_sent

    def _stems_supported(self, stems: frozenset[str], profile: _Profile) -> bool:
        if any(len(stems & s.stems) / len(stems) >= self.min_support for s in profile.sentences):
            return True
        return any(len(stems & c.stems) / len(stems) >= self.min_chunk_support for c in profile.chunks)

    def _quantity_supported(
        self, q: Quantity, text: str, profile: _Profile, chunk_cov: list[float], best: int, n_stems: int
    ) -> bool:
        """The number is stated by a source chunk about the same thing as its sentence or its clause."""
        if quantity_in(q, profile.chunks[best].quantities):
            return True
        clause = content_stems(_clause_of(text, q.text)) - _HEDGE_STEMS
        clause_cov = _chunk_coverage(clause, profile)
        for i, chunk in enumerate(profile.chunks):
            about = chunk_cov[i] >= 0.5 or clause_cov[i] >= 0.5 or n_stems < 2 or len(clause) < 2
            if about and quantity_in(q, chunk.quantities):
                return True
        return False

    @staticmethod
    def _number_reason(q: Quantity, shown: str, profile: _Profile, best: int) -> str:
        chunk = profile.chunks[best]
        kin = [p for p in chunk.quantities if p.kind == q.kind]
        same = (
            [p for p in kin if p.unit == q.unit]
            or ([p for p in kin if p.unit in _DURATIONS] if q.unit in _DURATIONS else [])
            or [p for p in kin if p.unit]
            or kin
        )
        if same:
            values = ", ".join(dict.fromkeys(f"'{p.show()}'" for p in same[:3]))
            return f"says '{q.show()}' ('{shown}') but {chunk.name} says {values}"
        if quantity_in(q, profile.quantities):
            return f"says '{q.show()}' ('{shown}'), which its sources state only about something else"
        return f"says '{q.show()}' ('{shown}') but no source of this reply states it"


def _best_sentence(stems: frozenset[str], profile: _Profile, negated: bool) -> tuple[float, _SourceSentence | None]:
    """The source sentence this sentence is most about (IDF-weighted overlap), and its plain coverage."""
    if not stems:
        return 0.0, None
    weights = {s: profile.weight(s) for s in stems}
    total = sum(weights.values())
    best_w, best = 0.0, None
    for s in profile.sentences:
        w = sum(weights[x] for x in stems & s.stems) / total
        # On a tie prefer the sentence with the same polarity (it supports; the other contradicts).
        if w > best_w + 1e-9 or (abs(w - best_w) <= 1e-9 and best is not None and w > 0 and s.negated == negated):
            best_w, best = w, s
    if best is None:
        return 0.0, None
    return len(stems & best.stems) / len(stems), best


def _chunk_coverage(stems: frozenset[str], profile: _Profile) -> list[float]:
    return [len(stems & c.stems) / len(stems) if stems else 0.0 for c in profile.chunks]


_POLARITY_BREAK = re.compile(r";\s|,\s*(?:but|however|although|though|while|whereas|except)\s|\s(?:but|however)\s")
_CLAUSE_BREAK = re.compile(r"[,;:]\s|\s(?:and|but|while|whereas|og|men|och|und|aber)\s|\s-\s")


def _clause_of(text: str, surface: str) -> str:
    """The clause of `text` around the first occurrence of `surface` (the whole text if not found)."""
    at = text.find(surface.strip())
    if at < 0:
        return text
    end_at = at + len(surface.strip())
    start, end = 0, len(text)
    for m in _CLAUSE_BREAK.finditer(text):
        if m.end() <= at:
            start = m.end()
        elif m.start() >= end_at:
            end = m.start()
            break
    return text[start:end]


_NAME_TOKEN = re.compile(r"(?<![\w'’-])(?:[A-ZÆØÅÄÖÜ][a-zæøåäöüß]+(?:[A-Z][a-z]+)*|[A-Z]{2,6})(?![\w'’-])")
_COMMON_CAPS = frozenset(
    """
    I I'm I'll I've AI OK FAQ PS Yes No Hi Hello Hey Dear Thanks Sorry Please Unfortunately Sure Also However
    Note Tip Great Good Of Our We You Your The A An It This That These Those There Here If When For To In On
    And But Or So As At By With From Today Tomorrow Yesterday Mr Mrs Ms Dr
    """.split()
)
_MONTH_OR_DAY = re.compile(
    rf"(?i)^(?:{'|'.join(WEEKDAYS)})s?$|^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*$"
)


_DENIAL_REACH = 5  # words after "not" / "except" that a denial covers: "do not ship to the United Kingdom"
_WORD_TOKEN = re.compile(r"[\w'’-]+")


def _denied_in(clause: str) -> set[str]:
    """Capitalised names (not acronyms) within a few words after a denial: "We do not ship to the United
    Kingdom" denies the United Kingdom; "never charged twice for shipping on an exchange in Norway" and "other
    countries outside Europe" deny neither Norway nor Europe."""
    out: set[str] = set()
    for m in [*_NEGATION.finditer(clause), *_EXCEPT.finditer(clause)]:
        after = _WORD_TOKEN.findall(clause[m.end() :])[:_DENIAL_REACH]
        out.update(w.casefold() for w in after if w[:1].isupper() and not w.isupper() and w not in _COMMON_CAPS)
    return out


def _names(text: str) -> list[str]:
    """Capitalised words that are not the first word of the sentence (or of a line or a list item)."""
    out = []
    for m in _NAME_TOKEN.finditer(text):
        before = text[max(0, m.start() - 12) : m.start()].rstrip(" \t\"'(")
        if not before or before[-1] in ".!?:\n-•*" or re.search(r"(?:^|\n)\s*\d{1,2}[.)]$", before):
            continue
        word = m.group()
        if word in _COMMON_CAPS or _MONTH_OR_DAY.match(word):
            continue
        out.append(word)
    return out


_ANSWER_PARTICLE = re.compile(r"(?i)^\s*(?:yes|no|nope|yep|ja|nei|nej|nein|sorry|unfortunately)\b[\s,.!:;-]*")


def _negated(text: str) -> bool:
    """Does the claim itself deny something? A leading "No," only answers the question."""
    return bool(_NEGATION.search(_ANSWER_PARTICLE.sub("", text)))


def _quote_key(text: str) -> str:
    """A sentence for a word-for-word comparison: case, spacing and end punctuation ignored."""
    return " ".join(text.casefold().split()).rstrip(" .!?:;")


def _clip(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
