"""Small text helpers shared by retrieval and the approved-answer responder.

`terms()` is the lexical analyser: lowercase word tokens, English (and a few Norwegian) stop words
removed, and a light suffix folding so "deliveries", "delivered" and "delivery" meet, and so do
"shipping", "ships" and "ship". It is deliberately simple and predictable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Numbers with separators ("10:00", "1,999", "2.5") stay whole; words may contain - and '.
_WORD = re.compile(r"\d+(?:[:.,]\d+)+|[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)

STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't during each either else ever every few for from further get gets got had hadn't has
    hasn't have haven't having he her here hers herself him himself his how i i'd i'll i'm i've if in
    into is isn't it it's its itself just let's like me might more most much must mustn't my myself
    need no nor not now of off often on once only or other ought our ours ourselves out over own
    please same shall shan't she should shouldn't so some such than thank thanks that that's the their
    theirs them themselves then there there's these they they'd they'll they're they've this those
    through to too under until up upon us very via want was wasn't we we'd we'll we're we've were
    weren't what what's when when's where where's whether which while who who's whom why why's will
    with won't would wouldn't yes yet you you'd you'll you're you've your yours yourself yourselves
    hi hello hey dear regards ok okay
    og er det jeg du en et av til med som har på om kan vi dere hva hvor når hvordan hei takk
    """.split()
)

_VOWELS = set("aeiouyæøåäö")


def _fold(word: str) -> str:
    """Light, deterministic suffix folding (not a full stemmer)."""
    if word.isdigit() or len(word) <= 3:
        return word
    if word.endswith("'s"):
        word = word[:-2]
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "shes", "ches", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if any(c in _VOWELS for c in stem):
                word = stem
                if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                    word = word[:-1]  # shipp -> ship, stopp -> stop
                break
    if len(word) > 4 and word.endswith("y") and word[-2] not in _VOWELS:
        word = word[:-1]  # delivery -> deliver, policy -> polic
    if len(word) > 4 and word.endswith("e") and word[-2] not in _VOWELS:
        word = word[:-1]  # rotate -> rotat, purchase -> purchas (matches purchased/purchasing)
    return word


def words(text: str) -> list[str]:
    """Lowercase word tokens (hyphenated words kept together and also split)."""
    out: list[str] = []
    for match in _WORD.finditer(text.lower()):
        token = match.group(0)
        out.append(token)
        if "-" in token:
            out.extend(p for p in token.split("-") if p)
    return out


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """The words of `text` as written (hyphenated words whole), with their start and end offsets."""
    return [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]


def terms(text: str) -> list[str]:
    """The analysed terms of `text` for lexical matching: no stop words, light folding."""
    out = []
    for token in words(text):
        if "-" in token:
            continue  # its parts are in the list too
        if token in STOP_WORDS or (len(token) < 2 and not token.isdigit()):
            continue
        out.append(_fold(token))
    return out


# --- sentences and markdown residue ------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[\"'(\[]?[A-Z0-9ÆØÅÄÖ])")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_HEADING_MARKER = re.compile(r"^\s*#{1,6}\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`|~~)")


def strip_markdown(text: str) -> str:
    """Remove markdown syntax from one line: list/heading markers, emphasis, code ticks, link URLs."""
    text = _HEADING_MARKER.sub("", text)
    text = _LIST_MARKER.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Unit:
    """A piece of a chunk an answer can quote: a sentence of prose, or one list item/table row."""

    text: str  # markdown stripped; a substring of the chunk text (modulo whitespace)
    block: int  # index of the block (blank-line separated) it comes from
    is_item: bool  # a list item or table row (quoted on its own line)


def split_units(text: str) -> list[Unit]:
    """Split chunk text into quotable units, in order."""
    units: list[Unit] = []
    for b, block in enumerate(re.split(r"\n\s*\n", text)):
        lines = [ln for ln in block.split("\n") if ln.strip()]
        for line in lines:
            is_item = bool(_LIST_MARKER.match(line)) or " | " in line
            if is_item:
                clean = strip_markdown(line)
                if clean:
                    units.append(Unit(clean, b, True))
                continue
            pending = ""
            for sentence in _SENTENCE_END.split(line.strip()):
                clean = strip_markdown(sentence)
                if not clean:
                    continue
                if pending:
                    clean = f"{pending} {clean}"
                    pending = ""
                if len(clean.split()) < 3:  # "Yes." / "No." belongs with what follows
                    pending = clean
                    continue
                units.append(Unit(clean, b, False))
            if pending:
                units.append(Unit(pending, b, False))
    return units
