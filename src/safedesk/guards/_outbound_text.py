"""Text helpers shared by the outbound guards (leakage, commitments, grounding).

Everything here assumes hostile input: a draft may hide text in zero-width or tag characters, use
look-alike letters, split tokens with spaces, or be 100 kB long. `normalize` undoes the tricks once,
and every matcher works on its output. All functions are plain regex and set work (no models), so the
three outbound guards together stay in the low milliseconds.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# ---- normalisation ------------------------------------------------------------------------------

# Unicode "tag" characters (U+E0020..U+E007E) mirror ASCII and are invisible: decode them, so text
# smuggled inside them is checked like visible text.
_TAGS = re.compile("[\U000e0020-\U000e007e]")
# Invisible format characters, variation selectors and other fillers: removed.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U0001d173-\U0001d17a\U000e0000-\U000e001f"
    "\U000e007f-\U000e0fff]"
)
# Combining marks left after NFKC (composable accents such as å are already single characters).
_COMBINING = re.compile("[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic and Greek letters that look like Latin ones.
        "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
        "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
        "ɡ": "g", "ӏ": "l", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O",
        "Р": "P", "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S",
        "α": "a", "ο": "o", "ν": "v", "ρ": "p", "τ": "t", "ι": "i", "κ": "k", "υ": "u", "χ": "x",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
        "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        # Dashes, minus signs and quotes.
        "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "﹘": "-", "﹣": "-",
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "‟": '"',
        "«": '"', "»": '"', "\u202f": " ", "\u2009": " ", "\u00a0": " ",
    }
)  # fmt: skip


# Texts up to this length are cached (knowledge chunks, ordinary drafts); longer ones never are, so a
# stream of 100 kB hostile drafts cannot fill memory.
CACHE_MAX_CHARS = 8_000


def normalize(text: str) -> str:
    """Undo hiding tricks; keep letters, case and line breaks (the three guards share the cache)."""
    if text.isascii():
        return text
    return _normalize_cached(text) if len(text) <= CACHE_MAX_CHARS else _normalize(text)


@lru_cache(maxsize=512)
def _normalize_cached(text: str) -> str:
    return _normalize(text)


def _normalize(text: str) -> str:
    text = _TAGS.sub(lambda m: chr(ord(m.group()) - 0xE0000), text)
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _COMBINING.sub("", text)
    return text.translate(_CONFUSABLES)


_NOT_ALNUM = re.compile(r"[\W_]+")


def squash(text: str) -> str:
    """Lower-case letters and digits only: 'S D C-7f 3a' -> 'sdc7f3a'. For token hunting."""
    return _NOT_ALNUM.sub("", text.casefold())


_WORD = re.compile(r"[^\W_]+")
_CONTRACTIONS = re.compile(r"(?i)\b(can|won|don|doesn|didn|isn|aren|wasn|weren|couldn|shouldn|wouldn|haven|hasn)'t\b")


def expand_contractions(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        base = m.group(1).lower()
        return {"can": "can not", "won": "will not"}.get(base, base[:-1] + " not")

    return _CONTRACTIONS.sub(repl, text)


def words(text: str) -> list[str]:
    """Lower-case word tokens of already-normalised text."""
    return _WORD.findall(text.casefold())


# ---- content words ----------------------------------------------------------------------------------

STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing done down during each either else even ever every few
    for from further get gets got had has have having he her here hers him his how i if in into is it its
    itself just let like may me might more most much must my no nor not now of off on once one only or
    other our ours out over own per please same shall she should so some such than that the their theirs
    them then there these they this those through to too under until up upon us very via was we well were
    what when where which while who whom why will with within would yes yet you your yours yourself
    hi hello hey dear thanks thank sure okay ok course happy glad help assist also usually simply
    og i på er en et til av for med som det du vi jeg har kan ikke om vil skal eller de den deg dere
    och är att jag inte ni ett som av till med för på har kan eller der die das und ist ein eine zu mit
    von für auf ich sie wir nicht oder auch
    """.split()
)

_SYNONYMS = {
    "parcel": "package", "packag": "package", "item": "product", "goods": "product", "purchas": "buy",
    "purchase": "buy", "bought": "buy", "cost": "price", "costs": "price", "fee": "price", "charg": "price",
    "charge": "price", "shipp": "ship", "send": "ship", "sent": "ship", "dispatch": "ship", "deliver": "delivery",
    "arriv": "delivery", "arrive": "delivery", "kroner": "nok", "kr": "nok", "money": "refund", "reimburs": "refund",
    "shop": "store", "store": "store", "weekday": "day", "working": "business", "receiv": "get", "receive": "get",
    "email": "mail", "mail": "mail", "phone": "call", "telephone": "call", "ring": "call", "chat": "chat",
    "talk": "speak", "contact": "reach", "reach": "reach", "open": "open", "hour": "time", "time": "time",
    "colour": "color", "return": "return", "sendback": "return", "exchang": "exchange", "swap": "exchange",
    "cancel": "cancel", "cancell": "cancel", "card": "card", "pay": "pay", "payment": "pay", "paid": "pay",
    "accept": "take", "take": "take", "offer": "offer", "rent": "rent", "rental": "rent", "hire": "rent",
    "week": "week", "daily": "day", "free": "free", "gratis": "free", "cheaper": "low", "lower": "low",
    "faulty": "fault", "broken": "fault", "defect": "fault", "defective": "fault", "damag": "fault",
}  # fmt: skip


def _strip_suffix(word: str) -> str:
    w = word
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    if len(w) > 5 and w.endswith("ing"):
        w = w[:-3]
    elif len(w) > 4 and w.endswith("ed"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


_SYNONYM_STEMS = {_strip_suffix(k): _strip_suffix(v) for k, v in _SYNONYMS.items()}


def stem(word: str) -> str:
    """A deliberately small English suffix stripper plus a synonym map; good enough for overlap."""
    w = _strip_suffix(word)
    return _SYNONYM_STEMS.get(w, w)


def content_stems(text: str) -> frozenset[str]:
    """Stems of the content words (no stopwords, no numbers, no one-letter tokens)."""
    return frozenset(stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1 and not w.isdigit())


# ---- sentences ----------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-ZÆØÅÄÖÜ])|\n+")
_LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_LIST_NUMBER = re.compile(r"(?m)^[ \t]*(\d{1,2}[.)])[ \t]+(?=\S)")


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str  # without a leading list marker
    start: int
    item: bool = False  # a list item ("- Gas canisters and fuel")


_NO_BREAK_AFTER = re.compile(r"(?i)(?<!\S)(?:\d{1,2}|e\.g|i\.e|kl|ca|nr|no|approx|mr|mrs|ms|dr|st|bl\.a|z\.b|etc)\.$")


def sentences(text: str) -> list[Sentence]:
    """Sentences and list items of normalised text, with their start offsets."""
    out: list[Sentence] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        if m.group().strip(" \t") == "" and _NO_BREAK_AFTER.search(text, max(0, m.start() - 12), m.start()):
            continue  # "1. Log in", "e.g. Vipps", "kl. 14": not a sentence end
        _add_sentence(out, text, pos, m.start())
        pos = m.end()
    _add_sentence(out, text, pos, len(text))
    return out


def _add_sentence(out: list[Sentence], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    mark = _LIST_MARK.match(piece)
    if mark:
        start += mark.end()
        piece = piece[mark.end() :]
    stripped = piece.strip()
    if stripped:
        out.append(Sentence(stripped, start + (len(piece) - len(piece.lstrip())), item=mark is not None))


# ---- word n-gram shingles --------------------------------------------------------------------------------


def shingles(tokens: list[str], n: int) -> set[int]:
    """Hashes of the word n-grams of a token list (the whole list when shorter than n)."""
    if len(tokens) < n:
        return {hash(tuple(tokens))} if tokens else set()
    return {hash(tuple(tokens[i : i + n])) for i in range(len(tokens) - n + 1)}


# ---- numbers, units, dates, times ------------------------------------------------------------------------

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
    # Unambiguous Norwegian / Swedish / German numerals ("to", "en", "ni", "fire" are English words).
    "tre": 3, "fem": 5, "seks": 6, "sju": 7, "syv": 7, "åtte": 8, "ti": 10, "tolv": 12, "femten": 15,
    "tjue": 20, "tretti": 30, "två": 2, "fyra": 4, "åtta": 8, "tio": 10, "femton": 15, "tjugo": 20,
    "trettio": 30, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8,
    "neun": 9, "zehn": 10, "zwölf": 12, "fünfzehn": 15, "zwanzig": 20, "dreißig": 30,
}  # fmt: skip
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_NUMBER_WORD_ALT = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_NUMBER_WORD_RE = re.compile(
    rf"(?i)\b(?:(?P<tens>{_TENS})[- ](?P<unit>{_UNITS})|(?P<word>{_NUMBER_WORD_ALT}))"
    rf"(?:\s+(?P<mult>hundred|thousand))?(?P<half>\s+and\s+a\s+half)?\b"
)

MONTHS = {
    "january": 1, "jan": 1, "januar": 1, "januari": 1, "february": 2, "feb": 2, "februar": 2, "februari": 2,
    "march": 3, "mar": 3, "mars": 3, "märz": 3, "april": 4, "apr": 4, "may": 5, "mai": 5, "maj": 5,
    "june": 6, "jun": 6, "juni": 6, "july": 7, "jul": 7, "juli": 7, "august": 8, "aug": 8, "augusti": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "oktober": 10, "okt": 10, "november": 11,
    "nov": 11, "december": 12, "dec": 12, "desember": 12, "dezember": 12, "des": 12,
}  # fmt: skip
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))

WEEKDAYS = {
    "monday": 0, "mandag": 0, "måndag": 0, "montag": 0, "tuesday": 1, "tirsdag": 1, "tisdag": 1, "dienstag": 1,
    "wednesday": 2, "onsdag": 2, "mittwoch": 2, "thursday": 3, "torsdag": 3, "donnerstag": 3,
    "friday": 4, "fredag": 4, "freitag": 4, "saturday": 5, "lørdag": 5, "lördag": 5, "samstag": 5,
    "sunday": 6, "søndag": 6, "söndag": 6, "sonntag": 6,
}  # fmt: skip
_WEEKDAY_RE = re.compile(rf"(?i)\b({'|'.join(WEEKDAYS)})(?:s|er|ar|e)?\b")
_WEEKDAY_RANGE_RE = re.compile(
    rf"(?i)\b({'|'.join(WEEKDAYS)})s?\s*(?:-|to|til|till|through|bis|until)\s*({'|'.join(WEEKDAYS)})s?\b"
)

_CURRENCY = {
    "nok": "NOK", "kr": "NOK", "kr.": "NOK", "kroner": "NOK", "krone": "NOK", "kronor": "NOK", ",-": "NOK",
    "sek": "SEK", "dkk": "DKK", "eur": "EUR", "euro": "EUR", "euros": "EUR", "€": "EUR",
}  # fmt: skip
_PERCENT = {"%", "percent", "per cent", "prosent", "procent", "prozent"}
_DURATION = {
    "minute": "minute", "minutes": "minute", "min": "minute", "mins": "minute", "minutter": "minute",
    "minuter": "minute", "minuten": "minute", "hour": "hour", "hours": "hour", "hrs": "hour", "h": "hour",
    "timer": "hour", "timmar": "hour", "stunden": "hour", "stunde": "hour", "day": "day", "days": "day",
    "business day": "day", "business days": "day", "working day": "day", "working days": "day",
    "virkedager": "day", "virkedag": "day", "dager": "day", "dag": "day", "dagar": "day", "arbetsdagar": "day",
    "tage": "day", "tagen": "day", "tag": "day", "werktage": "day", "werktagen": "day", "week": "week",
    "weeks": "week", "uker": "week", "uke": "week", "veckor": "week", "vecka": "week", "wochen": "week",
    "woche": "week", "month": "month", "months": "month", "måneder": "month", "måned": "month",
    "månader": "month", "månad": "month", "monate": "month", "monaten": "month", "monat": "month",
    "year": "year", "years": "year", "år": "year", "jahre": "year", "jahren": "year", "jahr": "year",
    "weekend": "weekend", "weekends": "weekend",
}  # fmt: skip
_MEASURE = {"cm": "cm", "mm": "mm", "m": "m", "km": "km", "kg": "kg", "g": "g", "l": "l", "liter": "l",
            "liters": "l", "litres": "l", "litre": "l", "degrees": "deg", "degree": "deg", "°": "deg",
            "°c": "deg", "grader": "deg", "units": "unit", "pieces": "unit", "stk": "unit"}  # fmt: skip
_UNIT_WORDS = sorted([re.escape(u) for u in (*_CURRENCY, *_PERCENT, *_DURATION, *_MEASURE)], key=len, reverse=True)
_UNIT_RE = rf"(?:{'|'.join(_UNIT_WORDS)})"
_NUM_RE = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d{1,3}(?: \d{3})+(?![\d,.])|\d+(?:[.,]\d+)?"
_PREFIX_CUR = r"(?:nok|kr\.?|eur|€|sek|dkk)"
_QUANTITY_RE = re.compile(
    rf"(?i)(?<![\w.,])(?:(?P<pcur>{_PREFIX_CUR})[ ]?)?(?P<wa>\x01)?(?P<a>{_NUM_RE})"
    rf"(?:[ ]?-?[ ]?(?:(?:extra|more|additional|full|whole|calendar|further)[ ])?(?P<ua>{_UNIT_RE})(?![^\W\d_]))?"
    rf"(?:[ \t]*(?:-|to|til|till|bis|and|och|og|und)[ \t]*(?:(?P<pcur2>{_PREFIX_CUR})[ ]?)?\x01?(?P<b>{_NUM_RE})"
    rf"(?:[ ]?-?[ ]?(?P<ub>{_UNIT_RE})(?![^\W\d_]))?)?(?![\w])"
)
_BETWEEN = re.compile(r"(?i)\b(?:between|mellom|mellan|zwischen)\s*$")
_TIME_RE = re.compile(
    r"(?i)(?<![\w:.])(?:(?:kl\.?|klokken|klockan|um)\s*)?(?P<h>[01]?\d|2[0-3])(?::(?P<m>[0-5]\d))?"
    r"(?:\s*(?P<ampm>a\.?m\.?|p\.?m\.?)(?![\w]))?(?![\w:])"
)
_CLOCK_RE = re.compile(
    r"(?i)(?<![\w:.])(?:[01]?\d|2[0-3]):[0-5]\d(?![\w:])"
    r"|(?<![\w:.])(?:1[0-2]|0?[1-9])(?::[0-5]\d)?\s*(?:a\.?m\.?|p\.?m\.?)(?![\w])"
    r"|(?i:\b(?:kl\.?|klokken|klockan)\s*(?:[01]?\d|2[0-3])(?:[:.][0-5]\d)?\b)"
)
_DATE_RE = re.compile(
    rf"(?i)\b(?P<iy>(?:19|20)\d\d)-(?P<im>[01]\d)-(?P<id>[0-3]\d)\b"
    rf"|\b(?P<dd>[0-3]?\d)\.(?P<dm>[01]?\d)\.(?P<dy>(?:19|20)?\d\d)\b"
    rf"|\b(?P<d1>[0-3]?\d)(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(?P<m1>{_MONTH_RE})\b\.?"
    rf"|\b(?P<m2>{_MONTH_RE})\.?\s+(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?\b(?!\s*(?:{_UNIT_RE}|:))"
)
# The look-behinds keep these linear on hostile input ("1.1.1.1..." would otherwise be re-scanned from
# every position).
EMAIL_RE = re.compile(r"(?i)(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")
# "kari dot nordmann at example dot com", "kari.nordmann [at] example [dot] com"
OBFUSCATED_EMAIL_RE = re.compile(
    r"(?i)(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]*(?:\s*(?:\[dot\]|\(dot\)|\sdot\s)\s*[a-z0-9._%+-]+)*"
    r"\s*(?:\[at\]|\(at\)|\{at\}|\sat\s)\s*[a-z0-9-]+(?:\s*(?:\[dot\]|\(dot\)|\{dot\}|\sdot\s|\.)\s*[a-z0-9-]+)+"
)
URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"')\]]+")
# Reference codes: start with a letter, contain a digit ("VF-88213", "VINTERLYS30", "NO-240518"), or
# upper-case words joined by hyphens ("SORRY-NL").
CODE_RE = re.compile(
    r"(?<![\w-])(?=[A-Za-z][\w-]*\d)[A-Za-z][A-Za-z0-9]*(?:[-_./][A-Za-z0-9]+)*(?![\w-])"
    r"|(?<![\w-])[A-Z]{2,}(?:-[A-Z0-9]{2,})+(?![\w-])"
)
# Digit runs with separators (phones, account numbers, card numbers).
DIGIT_RUN_RE = re.compile(r"(?<![\w+])(?:\+|00)?\d(?:[ .()/-]{0,2}\d){5,22}(?![\w])")
_DIGITS = re.compile(r"\d")
_NOT_A_CODE = re.compile(r"(?i)(?:kl|nr|no|ca|str|tlf|tel)\.?")
_THOUSANDS_AMOUNT = re.compile(r"\d{1,3}(?:[ ,.]\d{3})+(?:[.,]\d+)?")


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number in text, normalised: kind in {num, percent, time, date}; a range has `high`."""

    kind: str
    low: float
    high: float | None
    unit: str  # "" | NOK | EUR | day | hour | ... (for kind num)
    text: str  # the surface text
    written: bool  # written with digits (not a number word)

    def key(self) -> tuple[str, float, float | None, str]:
        return (self.kind, self.low, self.high, self.unit)

    def show(self) -> str:
        return self.text.strip()


_EN_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_EU_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")


def _canon(num: str) -> float:
    s = num.replace(" ", "")
    if s.isdigit():
        return float(s)
    if _EN_THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    elif _EU_THOUSANDS.fullmatch(s):
        s = s.replace(".", "").replace(",", ".")
    else:
        s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return float("nan")


def _unit(raw: str | None) -> tuple[str, str]:
    """(kind, unit) for a unit word."""
    if not raw:
        return "num", ""
    u = raw.casefold().strip()
    if u in _PERCENT:
        return "percent", ""
    if u in _CURRENCY:
        return "num", _CURRENCY[u]
    if u in _DURATION:
        return "num", _DURATION[u]
    return "num", _MEASURE.get(u, "")


def _words_to_digits(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group("tens"):
            value: float = _NUMBER_WORDS[m.group("tens").casefold()] + _NUMBER_WORDS[m.group("unit").casefold()]
        else:
            value = _NUMBER_WORDS[m.group("word").casefold()]
        if m.group("mult"):
            value *= 100 if m.group("mult").casefold() == "hundred" else 1000
        if m.group("half"):
            value += 0.5
        text = str(int(value)) if value == int(value) else str(value)
        return "\x01" + text  # \x01 marks "written as a word"

    return _NUMBER_WORD_RE.sub(repl, text)


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with the given spans blanked out (same length, so offsets stay valid)."""
    ordered = sorted(spans)
    if not ordered:
        return text
    parts: list[str] = []
    pos = 0
    for a, b in ordered:
        a = max(a, pos)
        if b <= a:
            continue
        parts.append(text[pos:a])
        parts.append(re.sub(r"[^\n]", " ", text[a:b]) if "\n" in text[a:b] else " " * (b - a))
        pos = b
    parts.append(text[pos:])
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class Entities:
    """What `extract` finds in one (normalised) text."""

    quantities: tuple[Quantity, ...]
    weekdays: frozenset[int]
    codes: tuple[str, ...]
    emails: tuple[str, ...]
    digit_runs: tuple[str, ...]  # digits only, 6+ digits (phones, accounts, cards)
    urls: tuple[str, ...]


def _time_value(m: re.Match[str]) -> float | None:
    h = int(m.group("h"))
    minute = int(m.group("m") or 0)
    ampm = (m.group("ampm") or "").replace(".", "").lower()
    if ampm == "pm" and h < 12:
        h += 12
    elif ampm == "am" and h == 12:
        h = 0
    return h + minute / 100


def extract(text: str) -> Entities:
    """Entities of normalised text. Cached for short texts: source chunks repeat across replies."""
    return _extract_cached(text) if len(text) <= CACHE_MAX_CHARS else _extract(text)


@lru_cache(maxsize=2048)
def _extract_cached(text: str) -> Entities:
    return _extract(text)


def _extract(text: str) -> Entities:
    spans: list[tuple[int, int]] = [m.span(1) for m in _LIST_NUMBER.finditer(text)]  # "1. Log in": no claim
    urls = tuple(m.group() for m in URL_RE.finditer(text))
    spans += [m.span() for m in URL_RE.finditer(text)]
    emails = [m.group().casefold() for m in EMAIL_RE.finditer(text)]
    spans += [m.span() for m in EMAIL_RE.finditer(text)]
    masked = _mask(text, spans)

    quantities: list[Quantity] = []
    # Dates before anything else eats their digits.
    date_spans = []
    for m in _DATE_RE.finditer(masked):
        if m.group("iy"):
            day, month = int(m.group("id")), int(m.group("im"))
        elif m.group("dd"):
            day, month = int(m.group("dd")), int(m.group("dm"))
        elif m.group("d1"):
            day, month = int(m.group("d1")), MONTHS[m.group("m1").casefold()]
        else:
            day, month = int(m.group("d2")), MONTHS[m.group("m2").casefold()]
        if 1 <= day <= 31 and 1 <= month <= 12:
            quantities.append(Quantity("date", month * 100 + day, None, "", m.group(), True))
            date_spans.append(m.span())
    masked = _mask(masked, date_spans)

    codes = []
    code_spans = []
    for m in CODE_RE.finditer(masked):
        token = m.group()
        if _NOT_A_CODE.fullmatch(token):
            continue
        codes.append(token)
        code_spans.append(m.span())
    masked = _mask(masked, code_spans)

    runs = []
    run_spans = []
    for m in DIGIT_RUN_RE.finditer(masked):
        digits = "".join(_DIGITS.findall(m.group()))
        raw = m.group()
        # Amounts with thousands separators ("1 999", "40,000") and decimals are quantities, not runs.
        if _THOUSANDS_AMOUNT.fullmatch(raw.strip()) and len(digits) < 9:
            continue
        intl = raw.startswith(("+", "00"))
        if len(digits) >= 8 or intl or (len(digits) >= 6 and raw.isdigit()):
            runs.append(digits)
            run_spans.append(m.span())
    masked = _mask(masked, run_spans)

    # Times ("14:00", "2 pm", "kl. 14") and time ranges ("10:00-19:00").
    time_spans = []
    for m in _CLOCK_RE.finditer(masked):
        tm = _TIME_RE.search(masked, m.start(), m.end())
        if tm is None:
            continue
        value = _time_value(tm)
        if value is not None:
            quantities.append(Quantity("time", value, None, "", m.group(), True))
            time_spans.append(m.span())
    masked = _mask(masked, time_spans)

    converted = _words_to_digits(masked) if _NUMBER_WORD_RE.search(masked) else masked
    for m in _QUANTITY_RE.finditer(converted):
        a_written = m.group("wa") is None
        low = _canon(m.group("a"))
        kind_a, unit_a = _unit(m.group("ua") or m.group("pcur"))
        high = None
        kind_b, unit_b = "num", ""
        joiner = ""
        if m.group("b"):
            joiner = converted[m.end("ua") if m.group("ua") else m.end("a") : m.start("b")].strip().casefold()
            kind_b, unit_b = _unit(m.group("ub") or m.group("pcur2"))
            if joiner in ("and", "och", "og", "und") and not _BETWEEN.search(converted[: m.start()]):
                # "24 and 31 December" is a list, not a range: keep the first number alone.
                quantities.append(_quantity(kind_a, low, None, unit_a, m.group("a"), a_written))
                continue
            high = _canon(m.group("b"))
        kind = "percent" if "percent" in (kind_a, kind_b) else "num"
        unit = unit_a or unit_b
        surface = m.group().replace("\x01", "")
        quantities.append(_quantity(kind, low, high, unit, surface, a_written))

    weekdays = set()
    for m in _WEEKDAY_RANGE_RE.finditer(text):
        a, b = WEEKDAYS[m.group(1).casefold()], WEEKDAYS[m.group(2).casefold()]
        if a <= b:
            weekdays.update(range(a, b + 1))
    for m in _WEEKDAY_RE.finditer(text):
        weekdays.add(WEEKDAYS[m.group(1).casefold()])
    return Entities(
        tuple(q for q in quantities if q.low == q.low),
        frozenset(weekdays),
        tuple(codes),
        tuple(emails),
        tuple(runs),
        urls,
    )


def _quantity(kind: str, low: float, high: float | None, unit: str, text: str, written: bool) -> Quantity:
    if high is not None and high < low:
        low, high = high, low
    return Quantity(kind, low, high, unit, text.replace("\x01", ""), written)


def units_compatible(a: str, b: str) -> bool:
    return a == b or not a or not b


def quantity_in(q: Quantity, pool: Iterable[Quantity]) -> bool:
    """Does `pool` state quantity `q`? Kinds and units must agree (a bare number fits any unit, and a
    bare day number fits a date); a single value may be an end of a published range; a range must
    match a published range."""
    for p in pool:
        if q.kind == "date":
            if (p.kind == "date" and p.low == q.low) or (p.kind == "num" and not p.unit and p.low == q.low % 100):
                return True
            continue
        if q.kind == "time":
            if p.kind == "time" and p.low == q.low:
                return True
            continue
        if p.kind not in ("num", "percent"):
            continue
        if p.kind != q.kind and (q.unit or p.unit):
            continue
        if not units_compatible(q.unit, p.unit):
            continue
        if q.high is None:
            if q.low == p.low or (p.high is not None and q.low == p.high):
                return True
        elif p.high is not None and q.low == p.low and q.high == p.high:
            return True
    return False


def mask_value(value: str) -> str:
    """Show enough of a leaked value for staff to recognise it, not enough to spread it."""
    value = value.strip()
    if len(value) <= 4:
        return value[:1] + "…"
    keep = max(2, min(4, len(value) // 4))
    return value[:keep] + "…" + f"({len(value)} chars)"
