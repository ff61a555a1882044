"""Text normalisation for the inbound guards: undo the tricks attackers use to slip words past filters.

`normalize(text)` returns a `Normalized` with one main *view* of the text (what rules and models read)
plus one view per decoded payload found inside it. The main view is:

- sanitised: lone surrogates and undecodable junk replaced, control characters turned into spaces;
- without invisible characters (zero-width, bidi controls, soft hyphens, variation selectors, Unicode
  "tag" characters), whose hidden ASCII (tags) or bytes (variation selectors) become views of their own;
- NFKC-folded (full-width, mathematical and circled letters become plain ones), HTML entities decoded;
- homoglyphs folded to ASCII (Cyrillic/Greek look-alikes inside Latin words, or everywhere when the text
  is mostly Latin);
- lower-cased with accents removed (ä -> a, ø -> o, ß -> ss), so rules are written once in ASCII;
- spaced-out letters joined ("i g n o r e" -> "ignore"; an unbroken run is cut into words);
- leetspeak undone for the words attackers disguise ("1gn0r3" -> "ignore"), and only for those.

Decoded views: base64, hex, binary, \\u escapes, URL-encoding, ROT13 and reversed text, when the decoded
text looks like language. Every view is normalised again (two levels deep at most).

Work is capped: at most `MAX_CHARS` characters are read (head and tail of longer input), and decoding
looks at a bounded number of candidates. Nothing here raises on any `str` input.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

__all__ = ["MAX_CHARS", "Normalized", "View", "fold", "normalize", "nospace", "sanitize", "skeleton"]

MAX_CHARS = 100_000  # characters read from one message: the first 80 % and the last 20 % of this
_MAX_DECODE_CANDIDATES = 24  # encoded segments decoded per view
_MAX_DEPTH = 2  # decoded text inside decoded text is still decoded, once

# --- invisible characters -------------------------------------------------------------------------

_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),  # Mongolian variation selectors, vowel separator
    (0x200B, 0x200F),  # zero-width space/joiners, LRM/RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # byte-order mark / zero-width no-break space
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),  # interlinear annotation
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical format controls
    (0xE0000, 0xE007F),  # tag characters ("ASCII smuggling")
    (0xE0100, 0xE01EF),  # variation selectors supplement
)
# C0/C1 control characters and no-break spaces become spaces (\t \n \r stay).
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\xa0]")
_INVISIBLE_RE = re.compile(
    "[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _INVISIBLE_RANGES) + "]",
)
_TAG_RUN_RE = re.compile("[\U000e0020-\U000e007e]{3,}")
_VS_RUN_RE = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]{4,}")
# An invisible character between two letters is a trick, not an emoji joiner.
_INVISIBLE_INSIDE_WORD_RE = re.compile(r"[^\W\d_][" + _INVISIBLE_RE.pattern[1:-1] + r"]+[^\W\d_]")

# --- homoglyphs -----------------------------------------------------------------------------------

_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j", "к": "k", "м": "m",
    "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ь": "b", "ɡ": "g",
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "З": "3", "І": "I", "Ї": "I", "Ј": "J", "К": "K", "М": "M",
    "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "Ԁ": "D", "Ԛ": "Q",
    "Ԝ": "W", "Һ": "H", "Ӏ": "I",
    # Greek
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "ζ": "z", "η": "n", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "ς": "c", "σ": "o", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin look-alikes NFKC leaves alone
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɩ": "i", "ǀ": "l", "ɪ": "i", "ʀ": "r", "ᴀ": "a", "ᴄ": "c", "ᴅ": "d",
    "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p",
    "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
}  # fmt: skip
_CONFUSABLE_TABLE = str.maketrans(_CONFUSABLES)
_CONFUSABLE_CHARS = frozenset(_CONFUSABLES)
_LATIN_RE = re.compile("[A-Za-z]")
_GREEK_CYRILLIC_RE = re.compile("[\u0370-\u04ff\u0500-\u052f]")
_CONFUSABLE_RE = re.compile("[" + "".join(_CONFUSABLES) + "]")
# Full-width letters and digits, mathematical alphanumerics, circled and squared letters. (Not the
# full-width punctuation that Chinese and Japanese text uses every day.)
_FULLWIDTH_RE = re.compile(
    "[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\U0001d400-\U0001d7ff\u24b6-\u24e9\U0001f130-\U0001f189]"
)
_WORD_RE = re.compile(r"[^\W_]+")

# Letters that do not decompose into base letter + accent.
_SPECIAL_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "þ": "th", "ł": "l", "ħ": "h"})
_SPECIAL_RE = re.compile("[øæœđðþłħ]")
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")

# --- leetspeak and spaced-out letters -------------------------------------------------------------

# Words worth restoring from leetspeak / cutting out of a spaced-out run. Attack vocabulary first, then
# common short words so a run like "ignoreallpreviousinstructions" can be cut into words.
_VOCAB_TEXT = """
ignore ignoring ignored disregard forget override bypass skip previous prior above earlier preceding
instructions instruction rules rule guidelines directions directives prompt prompts system developer
mode jailbreak jailbroken dan unrestricted unfiltered uncensored restrictions filters filter limits
reveal show print repeat output display tell give leak dump list share expose secret secrets hidden
internal confidential password passwords admin administrator root access credentials token key keys
api database customers customer emails email addresses address phone numbers data private personal
supplier suppliers prices price cost margin margins owner boss manager ceo staff employee employees
pretend roleplay role act character persona evil freedom free anything now from new task tasks
instead command commands order orders obey comply execute decode base64 encoded message messages
config configuration settings policy policies safety ethics ethical moral guard guardrails
everything anything all any every your you yours the a an and or to of in on for with without
me my i we our us this that these those is are was be been do does not no never always only just
what who how why where when which please now then first next must should will would can could
say said write tell answer respond reply response text above below before after start begin end
initial original full entire exact verbatim word words sentence told given context conversation
ignorer ignoriere ignorieren vergiss vergessen anweisungen befehle regeln alle vorherigen
glem tidligere instruksjoner instrukser regler ignorera glom alla tidigare instruktioner
oublie oubliez precedentes consignes toutes ignora olvida instrucciones anteriores todas
also can you look up find send get have has had here there their them they he she it its his her him
customer customers order orders shop store account refund delivery shipping price product invoice
help thanks thank hello hi dear regards best know like want need would about into over under again
ich du er sie wir ihr mir mich dir dich mein meine dein deine ist sind war nicht und oder aber mit fur
von zu auf bei aus nach wie was wer wo wann bitte danke zeige gib sag neue aufgabe jetzt ab sofort
jeg du han hun vi dere meg deg min mitt mine din ditt dine er var ikke og eller men med for til av pa
fra som hva hvem hvor nar takk vis gi si ny nye oppgave na alle alt kunde kunder kundene adresse
jag mig dig mitt mina ditt dina ar inte och eller men till fran vad vem var nar tack visa ge sag
nya uppgift nu allt kund kunderna adresser hvad hvem hvornar mig dig jer
je tu il elle nous vous moi toi mon ma mes ton ta tes est sont pas et ou mais avec pour de du des les
le la un une que qui quoi comment montre donne dis nouvelle tache maintenant tous client clients
yo tu el ella nosotros me mi mis tus es son no y o pero con para de del los las un una que quien
como muestra dame di nueva tarea ahora todos cliente clientes direcciones
anweisung kundendaten passwort preise lieferant systemprompt passord leverandor priser losenord
leverantor regles prix fournisseur reglas contrasena precios proveedor secretes secretas
""".split()
_LEET_MAP = str.maketrans({
    "0": "o", "1": "i", "l": "i", "|": "i", "!": "i", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s",
    "7": "t", "+": "t", "8": "b", "9": "g", "€": "e", "£": "l",
})  # fmt: skip


def skeleton(word: str) -> str:
    """A leetspeak-insensitive key: '1gn0r3' and 'ignore' share one (l, 1, |, ! all become i)."""
    return word.translate(_LEET_MAP)


_VOCAB_BY_SKELETON: dict[str, str] = {}
for _w in sorted(set(_VOCAB_TEXT), key=len):
    _VOCAB_BY_SKELETON.setdefault(skeleton(_w), _w)
_VOCAB_WORDS = {w: w for w in _VOCAB_TEXT}
_MAX_VOCAB_LEN = max(map(len, _VOCAB_BY_SKELETON))
# General de-leeting for texts written mostly in leetspeak (1 is read as i, never as l).
_DELEET_MAP = str.maketrans({
    "0": "o", "1": "i", "|": "l", "!": "i", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t",
    "+": "t", "8": "b", "9": "g", "€": "e", "£": "l",
})  # fmt: skip
_LEET_DIGIT_RE = re.compile(r"[013457@$]")
# Tokens that may be leetspeak; the callback checks for a digit/symbol (a pattern demanding one inside
# the token would backtrack quadratically on a long run of letters).
_LEET_TOKEN_RE = re.compile(r"[a-z0-9@$|!+€£]+")
_LEET_CHAR_RE = re.compile(r"[0-9@$|!+€£]")
_HAS_LETTER_RE = re.compile(r"[a-z]")
# Single letters separated by 1-3 separator characters: "i g n o r e", "i.g.n.o.r.e", "i  g n o r e  a l l".
_SPACED_RUN_RE = re.compile(r"(?<![^\W_])[^\W_](?:[ .\-_*~/+·|]{1,3}[^\W_](?![^\W_])){2,}")
_SPACED_SEP_RE = re.compile(r"[ .\-_*~/+·|]")
_WORD_GAP_RE = re.compile(r"[ .\-_*~/+·|]{2,}")
_SPACES_RE = re.compile(r"[ \t\f\v]+")
_NEWLINES_RE = re.compile(r"\s*\n\s*(?:\n\s*)*")

# --- encoded payloads -----------------------------------------------------------------------------

_BASE64_RE = re.compile(r"(?<![A-Za-z0-9+/=_\-])[A-Za-z0-9+/_\-]{16,}={0,2}(?![A-Za-z0-9+/=_\-])")
_HEX_RE = re.compile(r"(?<![0-9A-Fa-f])(?:(?:0x|\\x)?[0-9A-Fa-f]{2}[\s:,]?){8,}")
_BINARY_RE = re.compile(r"(?<![01])(?:[01]{8}[\s,]?){6,}")
_UESCAPE_RE = re.compile(r"(?:\\u[0-9A-Fa-f]{4}){4,}")
_PCT_RE = re.compile(r"%[0-9A-Fa-f]{2}")
_COMMON_WORDS = frozenset(
    """the and you your for with this that are was have not all what from can how please will would
    could should there their about which when where who why any our out one has had but
    ignore instructions previous system prompt tell now new rules reveal show print say give
    customer customers order password admin list email emails address
    und der die das ist nicht ich alle alles mir mich dir dich deine ein eine mit was wie von fur auf
    bitte meine deinen sind kunden
    og det jeg ikke att och til for som med meg mig dine din alt allt har kan vil hva hvad vad
    kunder alla
    les et vous pour pas que tout toutes est une des dans avec mon tes vos
    los las que para todo todas tus una por con del mis
    question reponds reponse place seulement facture comme nouvelle instruction commande moi toi
    ahora pregunta responde solo siempre pedido factura como tus reglas eres
    oss aldri sier deg dere vil skal ikke ingen regler svar bare mine kunde nei
    inte ingen regler svara bara mina dina mej dej eller
    nicht keine regeln antworte nur immer jetzt neue frage""".split()
)


@dataclass(frozen=True, slots=True)
class View:
    """One readable version of the message: the main text or a payload decoded from it."""

    text: str
    kind: str  # "text", or how it was decoded: "base64", "hex", "binary", "unicode-escape", "url",
    # "rot13", "reversed", "tag-characters", "variation-selectors"
    tricks: frozenset[str] = frozenset()  # disguises undone to get here (see `Normalized.tricks`)


@dataclass(frozen=True, slots=True)
class Normalized:
    """The normalised main text plus decoded payloads. `views[0]` is the main text."""

    text: str
    views: tuple[View, ...]
    # Disguises undone anywhere: "invisible", "homoglyph", "leetspeak", "spaced", "fullwidth", plus the
    # kinds of decoded views. Only counted when they touch words (an emoji joiner is not a trick).
    tricks: frozenset[str]
    truncated: bool = False


def sanitize(text: object) -> tuple[str, bool]:
    """Any input -> a valid str (lone surrogates replaced) capped at MAX_CHARS; (text, truncated)."""
    if isinstance(text, bytes | bytearray | memoryview):
        text = bytes(text).decode("utf-8", "replace")
    elif not isinstance(text, str):
        text = "" if text is None else str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    truncated = len(text) > MAX_CHARS
    if truncated:
        head = MAX_CHARS * 4 // 5
        text = text[:head] + "\n" + text[-(MAX_CHARS - head) :]
    return text, truncated


def _strip_invisible(text: str, tricks: set[str], hidden: list[tuple[str, str]]) -> str:
    if text.isascii():
        return _CONTROL_RE.sub(" ", text) if not text.isprintable() else text
    for run in _TAG_RUN_RE.findall(text):
        hidden.append(("tag-characters", "".join(chr(ord(c) - 0xE0000) for c in run)))
    for run in _VS_RUN_RE.findall(text):
        raw = bytes((ord(c) - 0xFE00) if ord(c) < 0xE0000 else (ord(c) - 0xE0100 + 16) for c in run)
        decoded = raw.decode("utf-8", "ignore")
        if decoded:
            hidden.append(("variation-selectors", decoded))
    if _INVISIBLE_INSIDE_WORD_RE.search(text):
        tricks.add("invisible")
    text = _INVISIBLE_RE.sub("", text)
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    return _CONTROL_RE.sub(" ", text)


def _fold_confusables(text: str, tricks: set[str]) -> str:
    if not _CONFUSABLE_RE.search(text):
        return text
    latin = len(_LATIN_RE.findall(text))
    other = len(_GREEK_CYRILLIC_RE.findall(text))
    if latin > other:
        tricks.add("homoglyph")
        return text.translate(_CONFUSABLE_TABLE)

    def fold_word(m: re.Match[str]) -> str:
        word = m.group(0)
        if any(c.isascii() for c in word) and any(c in _CONFUSABLE_CHARS for c in word):
            tricks.add("homoglyph")
            return word.translate(_CONFUSABLE_TABLE)
        return word

    return _WORD_RE.sub(fold_word, text)


def _strip_accents(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = _COMBINING_RE.sub("", text)
    return text.translate(_SPECIAL_LETTERS) if _SPECIAL_RE.search(text) else text


def _segment(run: str) -> str:
    """Cut an unbroken run of letters into vocabulary words; unknown letters stay joined. Runs with leet
    characters are matched on their skeleton ("1gn0r3" finds "ignore"), others exactly. Costs: a known
    word 1 (1.6 for two letters, which otherwise turn up everywhere), an unknown letter 0.75."""
    leet = not run.isalpha()
    key = skeleton(run) if leet else run
    vocab = _VOCAB_BY_SKELETON if leet else _VOCAB_WORDS
    n = len(key)
    if n > 400:
        return run
    best: list[tuple[float, int]] = [(0.0, 0)] + [(1e9, 0)] * n  # (cost, start of last piece)
    for end in range(1, n + 1):
        cost, start = best[end - 1][0] + 0.75, end - 1  # one unknown character
        for length in range(2, min(_MAX_VOCAB_LEN, end) + 1):
            if key[end - length : end] in vocab:
                c = best[end - length][0] + (1.6 if length == 2 else 1.0)
                if c < cost:
                    cost, start = c, end - length
        best[end] = (cost, start)
    pieces: list[tuple[str, bool]] = []  # (text, is a vocabulary word)
    end = n
    while end > 0:
        start = best[end][1]
        if end - start > 1:
            pieces.append((vocab.get(key[start:end], run[start:end]), True))
        else:
            pieces.append((run[start:end], False))
        end = start
    pieces.reverse()
    words: list[str] = []
    glue = False
    for piece, is_word in pieces:  # unknown letters stay together: "j o k e" -> "joke"
        if not is_word and glue:
            words[-1] += piece
        else:
            words.append(piece)
        glue = not is_word
    return " ".join(words)


def _join_spaced(text: str, tricks: set[str]) -> str:
    def join(m: re.Match[str]) -> str:
        run = m.group(0)
        letters = _SPACED_SEP_RE.sub("", run)
        if not _HAS_LETTER_RE.search(letters) or letters.isdigit():
            return run
        if (" " not in run or len(letters) < 4) and len(letters) < 8 and skeleton(letters) not in _VOCAB_BY_SKELETON:
            return run  # "e.g.", "u.s.a.", "a-b-c", "s m l", dates and codes stay as they are
        tricks.add("spaced")
        if _WORD_GAP_RE.search(run):  # words marked by wider gaps: "i g n o r e  a l l"
            words = [_SPACED_SEP_RE.sub("", w) for w in _WORD_GAP_RE.split(run)]
            return " " + " ".join(_segment(w) if len(w) >= 10 else w for w in words if w) + " "
        return " " + _segment(letters) + " "

    return _SPACED_RUN_RE.sub(join, text)


def _unleet(text: str, tricks: set[str]) -> str:
    """Restore leetspeak: always for attack vocabulary; for every word when the text is mostly leetspeak."""
    tokens = _WORD_RE.findall(text)
    dense = False
    if len(text) <= 20_000:
        mixed = [t for t in tokens if _HAS_LETTER_RE.search(t) and _LEET_DIGIT_RE.search(t)]
        dense = len(mixed) >= 3 and len(mixed) >= 0.25 * len(tokens)

    def restore(m: re.Match[str]) -> str:
        token = m.group(0)
        if len(token) > 64 or not _LEET_CHAR_RE.search(token) or not _HAS_LETTER_RE.search(token):
            return token
        for core, tail in ((token, ""), (token.rstrip("!|+$"), token[len(token.rstrip("!|+$")) :])):
            word = _VOCAB_BY_SKELETON.get(skeleton(core))
            if word is not None and word != core:
                tricks.add("leetspeak")
                return word + tail
        if dense:
            tricks.add("leetspeak")
            core = token.rstrip("!|+$")
            return core.translate(_DELEET_MAP) + token[len(core) :]
        return token

    return _LEET_TOKEN_RE.sub(restore, text)


def _looks_like_language(text: str) -> bool:
    if not text or len(text) < 6:
        return False
    printable = sum(1 for c in text if c.isprintable() or c in "\n\t")
    letters = sum(1 for c in text if c.isalpha())
    return printable / len(text) >= 0.95 and letters / len(text) >= 0.5 and (" " in text or len(text) <= 40)


def _common_word_hits(text: str) -> int:
    """How many words (3+ letters) of the text are common words or attack vocabulary."""
    if not text.isascii():
        text = _COMBINING_RE.sub("", unicodedata.normalize("NFKD", text))
    return sum(1 for w in _WORD_RE.findall(text.lower()) if len(w) > 2 and (w in _COMMON_WORDS or w in _VOCAB_WORDS))


def _decode_candidates(text: str) -> list[tuple[str, str]]:
    """Find encoded segments in (case-preserved) text and decode the ones that turn into language."""
    found: list[tuple[str, str]] = []

    def add(kind: str, raw: bytes | str) -> None:
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                return
        if _looks_like_language(raw) or (kind == "base64" and _BASE64_RE.fullmatch(raw.strip())):
            found.append((kind, raw))

    for i, m in enumerate(_BASE64_RE.finditer(text)):
        if i >= _MAX_DECODE_CANDIDATES:
            break
        seg = m.group(0)
        if seg.isalpha() and (seg.islower() or seg.isupper()):
            continue  # a long plain word, not base64
        body = seg.rstrip("=").replace("-", "+").replace("_", "/")
        body += "=" * (-len(body) % 4)
        try:
            add("base64", base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            continue
    for i, m in enumerate(_HEX_RE.finditer(text)):
        if i >= _MAX_DECODE_CANDIDATES:
            break
        digits = re.sub(r"0x|\\x|[\s:,]", "", m.group(0))
        if len(digits) % 2 == 0:
            try:
                add("hex", bytes.fromhex(digits))
            except ValueError:
                pass
    for i, m in enumerate(_BINARY_RE.finditer(text)):
        if i >= _MAX_DECODE_CANDIDATES:
            break
        bits = re.sub(r"[\s,]", "", m.group(0))
        add("binary", bytes(int(bits[j : j + 8], 2) for j in range(0, len(bits) - 7, 8)))
    for i, m in enumerate(_UESCAPE_RE.finditer(text)):
        if i >= _MAX_DECODE_CANDIDATES:
            break
        add("unicode-escape", "".join(chr(int(h, 16)) for h in re.findall(r"\\u([0-9A-Fa-f]{4})", m.group(0))))
    if len(_PCT_RE.findall(text[:20_000])) >= 4:
        add("url", urllib.parse.unquote(text[:20_000]))
    # ROT13 and reversed text: decode whole lines that read as language only after decoding. A line
    # that already reads as language (a quarter of its words are common words) is left alone.
    if len(text) <= 8_000:
        for line in [text, *text.split("\n")] if "\n" in text else [text]:
            if len(line) < 12:
                continue
            n_words = len(_WORD_RE.findall(line))
            plain = _common_word_hits(line)
            if n_words < 3 or (plain and 4 * plain >= n_words):
                continue
            for kind, decoded in (("rot13", codecs.encode(line, "rot13")), ("reversed", line[::-1])):
                hits = _common_word_hits(decoded)
                if (hits >= 3 and hits > 2 * plain + 1) or (hits >= 2 and plain == 0):
                    found.append((kind, decoded))
    return found


def _fold_main(text: str, tricks: set[str]) -> str:
    if not text.isascii():
        nfkc = unicodedata.normalize("NFKC", text)
        if nfkc != text and _FULLWIDTH_RE.search(text):
            tricks.add("fullwidth")
        text = _fold_confusables(nfkc, tricks)
        text = _strip_accents(text.casefold())
    else:
        text = text.lower()
    text = _join_spaced(text, tricks)
    if _LEET_CHAR_RE.search(text) and _HAS_LETTER_RE.search(text):
        text = _unleet(text, tricks)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES_RE.sub(" ", text)
    if "\n" in text:
        text = _NEWLINES_RE.sub("\n", text)
    return text.strip()


def _normalize(text: str, kind: str, depth: int, views: list[View], all_tricks: set[str]) -> None:
    tricks: set[str] = set()
    hidden: list[tuple[str, str]] = []
    text = _strip_invisible(text, tricks, hidden)
    if "&" in text and ";" in text:
        text = html.unescape(text)
    main = _fold_main(text, tricks)
    views.append(View(main, kind, frozenset(tricks)))
    all_tricks.update(tricks)
    if depth >= _MAX_DEPTH:
        return
    for sub_kind, decoded in hidden + _decode_candidates(text):
        if len(views) > 4 * _MAX_DECODE_CANDIDATES:
            break
        all_tricks.add(sub_kind)
        _normalize(decoded, sub_kind, depth + 1, views, all_tricks)


def normalize(text: object) -> Normalized:
    """Normalise any input into views for rules and models. Never raises; bounded work."""
    clean, truncated = sanitize(text)
    views: list[View] = []
    tricks: set[str] = set()
    _normalize(clean, "text", 0, views, tricks)
    return Normalized(text=views[0].text, views=tuple(views), tricks=frozenset(tricks), truncated=truncated)


def fold(text: object) -> str:
    """Only the main normalised view (no decoding): for other guards that want robust matching."""
    clean, _ = sanitize(text)
    tricks: set[str] = set()
    return _fold_main(_strip_invisible(clean, tricks, []), tricks)


_NOT_LETTER_RE = re.compile(r"[\W\d_]+")


def nospace(text: str) -> str:
    """Letters only: 'ig-nore  prev ious' -> 'ignoreprevious' (for a few phrase checks)."""
    return _NOT_LETTER_RE.sub("", text)
