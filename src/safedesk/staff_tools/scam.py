"""Staff tool: a second opinion on a message that might be a scam.

A shop owner pastes an SMS, a chat message or an email (headers included, when they have them) and gets
a risk between 0 and 1, a verdict and short plain-English reasons:

    result = assess('From: "PayPal" <service@paypa1-secure.ru>\\n\\nYour account is suspended ...')
    result.risk      -> 0.93
    result.verdict   -> "dangerous"
    result.reasons   -> ['The sender is named "paypal" but writes from paypa1-secure.ru ...', ...]

    scam_line({"id": "m1", "text": "..."})   -> {"id", "risk", "verdict", "reasons"}  (the CLI contract)

Rules first, no model: every rule looks for one known trick (a changed bank account, a request for the
one-time code you just received, a look-alike domain, ...) and, when it fires, adds one `Signal` with a
weight and a reason. Weights combine by noisy-or (`risk = 1 - prod(1 - w)`): each sign is treated as an
independent chance that the message is a scam, so two medium signs make a stronger case than either,
and nothing reaches 1. Verdict: risk < 0.3 safe, < 0.7 suspicious, else dangerous. All weights are in
`WEIGHTS`, tuned on the dev half of the SMS Spam Collection (see `safedesk.bench.scam`).

`own_domains` (the shop's own domains, e.g. ``("nordlys-outdoor.no",)``) adds look-alikes of the shop's
own name to the brands checked. Domains are split with tldextract's bundled public-suffix snapshot;
nothing here touches the network.

Any `str` is accepted (empty, huge, lone surrogates, binary junk) and gives a valid assessment; at most
`MAX_CHARS` characters are read (the head and the tail of longer text).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import functools
import html
import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from safedesk.errors import InputError

__all__ = [
    "DANGEROUS_FROM",
    "MAX_CHARS",
    "SAFE_BELOW",
    "WEIGHTS",
    "ScamAssessment",
    "ScamInputError",
    "Signal",
    "assess",
    "combine",
    "scam_line",
    "verdict_for",
]

SAFE_BELOW = 0.3  # risk below this: safe
DANGEROUS_FROM = 0.7  # risk at or above this: dangerous (in between: suspicious)
MAX_CHARS = 60_000  # characters read from one message: the first 48,000 and the last 12,000
_MAX_HOSTS = 200  # distinct domains examined per message

# One weight per rule (the chance, on its own, that a message showing this sign is a scam). Tuned on
# the dev half of the SMS Spam Collection and on the table in tests/test_scam.py; see bench/scam.py.
WEIGHTS: dict[str, float] = {
    # what the message asks for
    "code_request": 0.7,  # "send me the code you just received" (account takeover)
    "credentials": 0.55,  # password, PIN, card number, BankID
    "verify_account": 0.35,  # "verify your account", "update your payment details"
    "payment_redirect": 0.6,  # "our bank details have changed" (invoice / CEO fraud)
    "pay_new_account": 0.45,  # "pay invoice 88123 to the new account", "betala till det nya kontot"
    "bank_change_notice": 0.15,  # a bank change that tells you to confirm it by phone or in the portal
    "safe_account": 0.6,  # "move your money to a safe account", "log in with BankID while I'm on the phone"
    "authority_secrecy": 0.35,  # "are you at your desk?", "keep this confidential"
    "gift_cards": 0.6,  # "buy 5 Google Play cards and send me the codes"
    "gift_card_payment": 0.35,  # "pay with iTunes cards"
    "crypto": 0.5,  # "send the bitcoin to this wallet address"
    "investment": 0.4,  # "guaranteed returns", "double your money"
    "wire": 0.4,  # Western Union, MoneyGram
    "advance_fee": 0.45,  # inheritance, "transfer of funds", millions
    "overpayment": 0.4,  # "I paid too much, refund the difference"
    "remote_access": 0.45,  # "install AnyDesk"
    "prize": 0.55,  # "you have won", "claim your prize"
    "prize_words": 0.3,  # "winner", "lottery", "congratulations ... selected"
    "premium_rate": 0.35,  # call 09xx numbers, "text WIN to 80086", "150p/msg"
    "off_platform": 0.25,  # "message me on WhatsApp"
    "new_number": 0.45,  # "Hi mum, this is my new number ... can you pay a bill for me?"
    "delivery_fee": 0.55,  # "DHL: pay the customs fee to release your parcel"
    "delivery_hold": 0.25,  # "PostNord: your parcel could not be delivered"
    # how it pushes
    "urgency": 0.2,  # "within 24 hours", "final notice"
    "account_threat": 0.35,  # "your account has been suspended"
    # links and addresses
    "lookalike_domain": 0.7,  # paypa1.com, xn--pypal-4ve.com, micros0ft-login.com
    "own_lookalike": 0.65,  # a look-alike of the shop's own domain
    "brand_in_domain": 0.55,  # paypal-secure-login.com, dhl.parcel-track.info
    "brand_link_mismatch": 0.3,  # "DHL: ..." with a link that does not go to DHL
    "claimed_name_domain": 0.55,  # "this is Shimano Nordic" + shimano-nordic.example-pay.com
    "ip_link": 0.5,  # http://185.23.1.9/login
    "userinfo_link": 0.55,  # https://paypal.com@evil.example/
    "href_mismatch": 0.55,  # <a href="http://evil">https://paypal.com</a>
    "punycode": 0.35,  # an internationalised domain (xn--...)
    "shortener": 0.3,  # bit.ly, tinyurl.com, ...
    "risky_tld": 0.15,  # .top, .xyz, .click, ...
    # email headers
    "display_mismatch": 0.6,  # From: "PayPal" <x@paypa1-secure.ru>
    "reply_to_mismatch": 0.25,  # replies go to another domain
    "auth_fail": 0.35,  # SPF / DKIM / DMARC fail in Authentication-Results
    # attachments and disguise
    "double_extension": 0.75,  # invoice.pdf.exe
    "executable_attachment": 0.6,  # .exe, .scr, .js, .iso, ...
    "macro_attachment": 0.45,  # .docm, .xlsm, ...
    "protected_archive": 0.35,  # "the password for the zip is 1234"
    "obfuscation": 0.35,  # Cyrillic letters inside Latin words, zero-width characters in words
}


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Signal:
    """One sign of a scam: which rule, its weight, and a short reason for a shop owner."""

    rule: str
    weight: float
    reason: str


@dataclass(frozen=True, slots=True)
class ScamAssessment:
    risk: float  # 0..1, noisy-or of the signal weights
    verdict: str  # safe | suspicious | dangerous
    signals: tuple[Signal, ...] = ()  # strongest first

    @property
    def reasons(self) -> list[str]:
        return [s.reason for s in self.signals]


class ScamInputError(InputError, ValueError):
    """The input object for `scam_line` is unusable (a `UserError` for the CLI, a `ValueError` for code)."""


def combine(weights: Iterable[float]) -> float:
    """Noisy-or: 1 - prod(1 - w), each weight clamped to [0, 1]."""
    keep = 1.0
    for w in weights:
        keep *= 1.0 - min(1.0, max(0.0, float(w)))
    return 1.0 - keep


def verdict_for(risk: float) -> str:
    if risk < SAFE_BELOW:
        return "safe"
    return "suspicious" if risk < DANGEROUS_FROM else "dangerous"


# --------------------------------------------------------------------------------------------------
# Text preparation
# --------------------------------------------------------------------------------------------------

_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\U000e0000-\U000e007f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u201c": '"', "\u201d": '"'})
# Cyrillic and Greek letters that look like Latin ones (lower case, after casefold).
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
        "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
        "һ": "h", "ӏ": "l", "ɑ": "a", "ο": "o", "α": "a", "ν": "v", "ι": "i", "κ": "k", "ρ": "p", "τ": "t",
        "υ": "u", "χ": "x", "ε": "e", "β": "b", "ѵ": "v", "ɡ": "g", "ø": "o", "æ": "ae", "ß": "ss", "ð": "d",
        "þ": "th", "ł": "l", "đ": "d",
    }
)  # fmt: skip
# Characters used in look-alike domains, folded for comparison only ("paypa1" ~ "paypal", "rn" ~ "m").
_SKELETON_CHARS = str.maketrans({"0": "o", "1": "l", "i": "l", "3": "e", "5": "s", "4": "a", "7": "t", "9": "g"})


def _sanitize(text: str) -> str:
    """Valid UTF-8 text without control or invisible characters, at most MAX_CHARS long."""
    if len(text) > MAX_CHARS:
        head = MAX_CHARS * 4 // 5
        text = text[:head] + "\n" + text[-(MAX_CHARS - head) :]
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> "?"
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _INVISIBLE.sub("", text)


def _fold(text: str) -> str:
    """NFKC, lower case, homoglyphs and accents folded to ASCII-ish letters, one space between words."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES).translate(_HOMOGLYPHS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", text)


def _skeleton(label: str) -> str:
    """A domain label reduced to how it looks: homoglyphs, digits-for-letters and "rn"/"vv" folded."""
    label = _fold(label).replace("rn", "m").replace("vv", "w").replace("cl", "d")
    return label.translate(_SKELETON_CHARS)


def _clip(evidence: str, limit: int = 60) -> str:
    evidence = re.sub(r"\s+", " ", evidence).strip(" .,;:!?")
    return evidence if len(evidence) <= limit else evidence[: limit - 1].rstrip() + "…"


# --------------------------------------------------------------------------------------------------
# Brands that scammers imitate (name shown in reasons -> tokens, official registered domains)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Brand:
    name: str
    tokens: tuple[str, ...]  # how the name appears in domains and text, lower case, ASCII
    official: frozenset[str]  # registered domains that belong to the brand
    substring: bool = True  # the token may sit inside a longer label ("paypalsecure"); off for short/common words

    def named_in(self, text: str) -> bool:
        """Whether `text` (as written, not folded) names the brand: short or common names must be written
        the brand's way ("UPS", "Bring", "Apple"), so "ups and downs" or "bring it" do not count."""
        if self.substring:
            folded = _fold(text)
            return any(re.search(rf"\b{re.escape(t)}\b", folded) for t in self.tokens) or any(
                re.search(rf"\b{re.escape(t)}\b", folded.replace(" ", "")) for t in self.tokens
            )
        forms = {self.name, self.name.upper()}
        return any(re.search(rf"\b{re.escape(f)}\b", text) for f in forms)


def _b(name: str, tokens: str, official: str, *, substring: bool = True) -> _Brand:
    return _Brand(name, tuple(tokens.split()), frozenset(official.split()), substring)


BRANDS: tuple[_Brand, ...] = (
    _b("PayPal", "paypal", "paypal.com paypal.me paypalobjects.com paypal-communication.com"),
    _b("DHL", "dhl", "dhl.com dhl.de dhlparcel.nl dhlparcel.co.uk dhl-news.com", substring=False),
    _b("UPS", "ups", "ups.com", substring=False),
    _b("FedEx", "fedex", "fedex.com"),
    _b("Posten", "posten", "posten.no posten.se"),
    _b("PostNord", "postnord", "postnord.se postnord.no postnord.dk postnord.fi postnord.com"),
    _b("Bring", "bring", "bring.no bring.com bring.se bring.dk mybring.com", substring=False),
    _b("DPD", "dpd", "dpd.com dpd.co.uk dpd.de", substring=False),
    _b("GLS", "gls", "gls-group.eu gls-group.com", substring=False),
    _b("USPS", "usps", "usps.com", substring=False),
    _b("Royal Mail", "royalmail", "royalmail.com royalmail.co.uk"),
    _b("Evri", "evri", "evri.com", substring=False),
    _b("Budbee", "budbee", "budbee.com"),
    _b("Instabox", "instabox", "instabox.io instabox.se"),
    _b("Helthjem", "helthjem", "helthjem.no"),
    _b("Apple", "apple icloud", "apple.com icloud.com me.com", substring=False),
    _b(
        "Microsoft",
        "microsoft office365 outlook",
        "microsoft.com outlook.com office.com office365.com live.com "
        "hotmail.com microsoftonline.com sharepoint.com onmicrosoft.com microsoftstore.com",
    ),
    _b(
        "Google",
        "google gmail",
        "google.com gmail.com googlemail.com googleapis.com googleusercontent.com google-analytics.com "
        "googletagmanager.com googlesyndication.com gstatic.com youtube.com",
    ),
    _b(
        "Amazon",
        "amazon",
        "amazon.com amazon.co.uk amazon.de amazon.se amazon.fr amazon.nl amazon.pl amazonaws.com "
        "amazonses.com media-amazon.com amazonpay.com",
    ),
    _b("Netflix", "netflix", "netflix.com nflxso.net"),
    _b("Facebook", "facebook", "facebook.com fb.com facebookmail.com meta.com"),
    _b("Instagram", "instagram", "instagram.com cdninstagram.com"),
    _b("WhatsApp", "whatsapp", "whatsapp.com whatsapp.net wa.me"),
    _b("Vipps", "vipps mobilepay", "vipps.no vippsmobilepay.com mobilepay.dk mobilepay.fi"),
    _b("Klarna", "klarna", "klarna.com klarna.se klarna.no klarnaservices.com klarnacdn.net"),
    _b("BankID", "bankid", "bankid.no bankid.com"),
    _b("MitID", "mitid", "mitid.dk"),
    _b("Swish", "swish", "swish.nu getswish.se"),
    _b("Sparkasse", "sparkasse", "sparkasse.de sparkasse.at s-markt.de"),
    _b("DNB", "dnb", "dnb.no dnb.com", substring=False),
    _b("Nordea", "nordea", "nordea.com nordea.no nordea.se nordea.dk nordea.fi"),
    _b("Swedbank", "swedbank", "swedbank.se swedbank.com"),
    _b("Handelsbanken", "handelsbanken", "handelsbanken.se handelsbanken.no handelsbanken.com"),
    _b("Danske Bank", "danskebank", "danskebank.no danskebank.dk danskebank.se danskebank.com"),
    _b("SpareBank 1", "sparebank1", "sparebank1.no"),
    _b("Skatteetaten", "skatteetaten", "skatteetaten.no"),
    _b("Altinn", "altinn", "altinn.no"),
    _b("Skatteverket", "skatteverket", "skatteverket.se"),
    _b("HMRC", "hmrc", "hmrc.gov.uk gov.uk", substring=False),
    _b("Shopify", "shopify", "shopify.com myshopify.com shopifyemail.com shopifycdn.com shopify.dev"),
    _b("Stripe", "stripe", "stripe.com stripe.network", substring=False),
    _b("Mastercard", "mastercard", "mastercard.com"),
    _b("Coinbase", "coinbase", "coinbase.com"),
    _b("Binance", "binance", "binance.com"),
    _b("eBay", "ebay", "ebay.com ebay.co.uk ebay.de", substring=False),
    _b("Etsy", "etsy", "etsy.com", substring=False),
)
# Everyday words one letter away from a brand: never called look-alikes of it.
_NEAR_WORDS = frozenset(
    {
        "poster",
        "posted",
        "postet",
        "postes",
        "goggle",
        "googly",
        "amazin",
        "strips",
        "strive",
        "finance",
        "cloud",
        "sparebank",
        "banked",
    }
)
# Endings under which "<brand>.<ending>" is taken as the brand's own (dhl.no, posten.se, paypal.co.uk).
_PLAIN_SUFFIXES = re.compile(r"^(com|net|org|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})$")
_SHORTENERS = frozenset(
    "bit.ly tinyurl.com t.co goo.gl is.gd ow.ly cutt.ly rb.gy shorturl.at tiny.cc buff.ly rebrand.ly s.id t.ly "
    "v.gd bit.do short.io shorte.st adf.ly bl.ink lnkd.in qrco.de tiny.one u.to cli.gs x.co soo.gd clck.ru "
    "urlz.fr 1url.com surl.li linktr.ee".split()
)
_RISKY_TLDS = frozenset(
    "top xyz click buzz icu monster zip mov tk ml ga cf gq rest cyou sbs cfd bond quest loan win bid work "
    "country kim men party review stream gdn racing date faith science cricket download accountant su".split()
)
_DELIVERY_WORDS = r"posten|postnord|dhl|fedex|dpd|gls|usps|royal ?mail|evri|hermes|budbee|instabox|helthjem|tolletaten"


# --------------------------------------------------------------------------------------------------
# Domains
# --------------------------------------------------------------------------------------------------


@functools.cache
def _extractor() -> Any:
    """tldextract with its bundled public-suffix snapshot (never fetched), made once per process."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


@dataclass(frozen=True, slots=True)
class _Host:
    host: str  # as written (lower case, IDNA-decoded when it was punycode)
    label: str  # the registered label: "paypal" in www.paypal.co.uk
    suffix: str  # "co.uk"
    subdomain: str  # "www"
    kind: str  # url | bare | email
    ascii_host: str = ""  # punycode form when the host is internationalised

    @property
    def registered(self) -> str:
        return f"{self.label}.{self.suffix}" if self.suffix else self.label


def _split_host(host: str, kind: str) -> _Host | None:
    host = host.strip(".").lower()
    if not host or len(host) > 253:
        return None
    ascii_host = ""
    try:
        if any(ord(c) > 127 for c in host):
            ascii_host = host.encode("idna").decode("ascii")
        elif "xn--" in host:
            ascii_host, host = host, host.encode("ascii").decode("idna")
    except (UnicodeError, ValueError):
        ascii_host = ascii_host or host
    parts = _extractor()(ascii_host or host)
    label, suffix, sub = parts.domain, parts.suffix, parts.subdomain
    if not suffix:  # not a public suffix (e.g. ".example", ".local"): take the last label as the ending
        pieces = host.split(".")
        if len(pieces) < 2:
            return None
        label, suffix, sub = pieces[-2], pieces[-1], ".".join(pieces[:-2])
    elif ascii_host:  # report the readable (Unicode) labels
        pieces = host.split(".")
        n_suffix = suffix.count(".") + 1
        if len(pieces) > n_suffix:
            label, sub = pieces[-n_suffix - 1], ".".join(pieces[: -n_suffix - 1])
    return _Host(host, label, suffix, sub, kind, ascii_host)


# Country endings that are typos of .com / .net ("paypal.cm", "dnb.co"): never taken as the brand's own.
_TYPO_TLDS = frozenset({"co", "cm", "om", "ne"})
# Countries whose companies normally sit under "com.<cc>" or "co.<cc>" (amazon.com.au, paypal.co.uk).
_COM_CC = frozenset("au br mx ar tr sg hk my cn tw co pe ph".split())
_CO_CC = frozenset("uk jp nz za in kr id il th".split())


def _is_official(host: _Host, brand: _Brand) -> bool:
    reg = host.registered
    if reg in brand.official or any(reg.endswith("." + o) for o in brand.official):
        return True
    if host.label not in brand.tokens or not _PLAIN_SUFFIXES.match(host.suffix) or host.suffix in _RISKY_TLDS:
        return False
    first, _, country = host.suffix.partition(".")
    if not country:
        return first not in _TYPO_TLDS
    return country in (_COM_CC if first == "com" else _CO_CC)


def _near(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance exactly 1 (one letter changed, added, dropped or two swapped)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _tokens_of(host: _Host) -> list[str]:
    """The words of a host's labels ("paypal-secure.com.login" -> paypal, secure, com, login)."""
    words = re.split(r"[.\-_]+", f"{host.subdomain}.{host.label}")
    return [w for w in words if w]


def _imitates(host: _Host, token: str, allow_substring: bool) -> str | None:
    """'brand' when the host carries `token` itself, 'lookalike' when it carries a disguised copy of it."""
    words = _tokens_of(host)
    for word in words:
        if word == token or (allow_substring and len(token) >= 5 and token in word):
            return "brand"
        if not allow_substring and (_glued(word, token) or _glued(word[::-1], token[::-1])):
            return "brand"  # a short name glued to a telling word: "dhlparcel", "upsdelivery", "mydhl"
    skeleton_token = _skeleton(token)
    for word in words:
        sk = _skeleton(word)
        if sk == skeleton_token or (allow_substring and len(token) >= 5 and skeleton_token in sk):
            return "lookalike"
        if len(token) >= 6 and len(word) >= 5 and word not in _NEAR_WORDS and _near(word, token):
            return "lookalike"
    return None


_GLUE = re.compile(
    r"^(parcel|delivery|deliver|track|tracking|express|post|pakke|paket|customs|shipping|ship|support|service|"
    r"secure|login|verify|pay|payment|bank|id|online|info|help|care|account|my|no|se|dk|uk|us|eu|-)+$"
)


def _glued(word: str, token: str) -> bool:
    """`word` starts with `token` and the rest is made of telling words (read reversed for "my"+token)."""
    if not word.startswith(token) or word == token:
        return False
    rest = word[len(token) :]
    return bool(_GLUE.match(rest) or _GLUE.match(rest[::-1]))


_URL = re.compile(r"(?i)\b(?:(?:https?|hxxps?)://|www\.)[^\s<>\"'()\[\]{}|\\^`]{1,2000}")
_BARE = re.compile(
    r"(?i)(?<![\w@.\-/])((?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.){1,8}(?:[a-z]{2,24}|xn--[a-z0-9\-]{1,59}))(?![\w\-@])"
)
_EMAIL = re.compile(r"(?i)[\w.+\-]{1,64}@((?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.){1,8}[\w\-]{2,63})")
_FILELIKE_TLDS = frozenset({"zip", "mov", "py", "sh", "md", "rs", "ps", "js", "exe", "pdf", "doc", "txt", "png"})


@dataclass(frozen=True, slots=True)
class _Link:
    url: str
    host: _Host | None
    ip: str | None  # the address when the link points at a raw IP
    userinfo: str | None  # "paypal.com" in https://paypal.com@evil.example/


def _parse_url(url: str) -> _Link:
    rest = re.sub(r"(?i)^(?:https?|hxxps?)://", "", url)
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo = None
    if "@" in authority:
        userinfo, authority = authority.rsplit("@", 1)
    host = authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority
    host = host.strip("[]").rstrip(".,;:!?")
    ip = None
    try:
        ip = str(ipaddress.ip_address(host))
    except ValueError:
        if re.fullmatch(r"\d{8,10}", host):  # http://3105752601 (a decimal IP)
            ip = host
    return _Link(url, None if ip else _split_host(host, "url"), ip, userinfo)


# --------------------------------------------------------------------------------------------------
# The message, prepared once for every rule
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Message:
    raw: str  # sanitised original
    visible: str  # raw without HTML tags
    text: str  # folded, one line: what the phrase rules read
    headers: list[tuple[str, str]]
    links: list[_Link]
    hosts: list[_Host]  # every distinct host: links, bare domains, email addresses
    hrefs: list[tuple[str, str]]  # (href, visible text) of HTML anchors
    own: list[_Host]


_HEADER_LINE = re.compile(
    r"^\s{0,4}(from|reply-to|return-path|sender|authentication-results|subject|to)\s?:\s*(.*)$", re.IGNORECASE
)
_ANCHOR = re.compile(
    r"(?i)<a\s[^>]{0,500}?href\s*=\s*[\"']?([^\"'\s>]{1,2000})[^>]{0,500}>((?:[^<]|<(?!/?a[\s>]))"
    r"{0,300})</a>"
)
_TAG = re.compile(r"(?s)<(?![\w.+\-]{1,64}@[\w.\-]{1,255}>)[a-zA-Z/!][^<>]{0,2000}>")  # not <name@example.com>


# A pasted raw email starts with header lines; these names tell it from a note that happens to start "Re: ...".
_RAW_HEADER_START = re.compile(r"^\s*[A-Za-z][A-Za-z0-9-]{0,60}:[ \t]")
_MAX_HEADER_BLOCK = 16_000  # characters of headers a pasted email may have to be parsed as one
_MAX_HEADER_LINE = 1_000
_EMAIL_HEADER_NAMES = frozenset(
    "from sender reply-to return-path received subject to date message-id mime-version content-type "
    "content-transfer-encoding authentication-results dkim-signature".split()
)


def _readable_email(text: str) -> str:
    """A raw email (RFC 5322 headers, perhaps MIME parts) as its reader sees it: headers unfolded, encoded
    words decoded ("=?UTF-8?B?UGF5UGFs?=" -> "PayPal"), text parts decoded from base64 or quoted-printable.
    Any other text comes back unchanged. Parsed by the standard library's email package."""
    if not _RAW_HEADER_START.match(text[:1000]):
        return text
    # The email package is slow on hostile headers (quadratic on a long run of quotes): only a header block
    # of ordinary size is parsed; anything else is read as plain text.
    end = re.search(r"\r?\n\r?\n", text[:_MAX_HEADER_BLOCK])
    head = text[: end.start()] if end else text[:_MAX_HEADER_BLOCK]
    if end is None and len(text) > _MAX_HEADER_BLOCK:
        return text
    if any(len(line) > _MAX_HEADER_LINE for line in head.splitlines()):
        return text
    try:
        message = email.message_from_string(text.lstrip(), policy=email.policy.default)
        if not {k.lower() for k in message.keys()} & _EMAIL_HEADER_NAMES:
            return text
        lines = []
        for name, value in message.items():
            lines.append(f"{name}: {' '.join(str(value).split())}")
        bodies = []
        for part in message.walk():
            if part.is_multipart() or part.get_content_maintype() != "text":
                continue
            try:
                content = part.get_content()
            except (LookupError, ValueError, AssertionError):  # an unknown charset or a broken part: as sent
                content = part.get_payload()
            if isinstance(content, str):
                bodies.append(content)
    except Exception:  # hostile input must never break the check: read it as plain text
        return text
    return "\n".join(lines) + "\n\n" + "\n\n".join(bodies)


def _prepare(text: str, own_domains: Iterable[str]) -> _Message:
    raw = _sanitize(text)  # capped before a pasted email is parsed
    readable = _readable_email(raw)
    if readable is not raw:  # decoded: clean what decoding brought in
        raw = _sanitize(readable)
    hrefs = []
    if "</a>" in raw.lower():
        for m in _ANCHOR.finditer(raw):
            hrefs.append((m.group(1), _TAG.sub(" ", m.group(2))))
            if len(hrefs) >= 50:
                break
    visible = html.unescape(_TAG.sub(" ", raw)) if "<" in raw else raw
    headers = []
    for line in raw.split("\n", 400)[:400]:
        m = _HEADER_LINE.match(line)
        if m:
            headers.append((m.group(1).lower(), m.group(2)[:1000]))
    nfkc = unicodedata.normalize("NFKC", visible)
    links = [_parse_url(u) for u in _URL.findall(nfkc)[:_MAX_HOSTS]] + [_parse_url(h) for h, _ in hrefs]
    hosts: dict[str, _Host] = {}
    for link in links:
        if link.host:
            hosts.setdefault(link.host.host, link.host)
    without_urls = _URL.sub(" ", nfkc)
    for domain in _EMAIL.findall(nfkc)[:_MAX_HOSTS]:
        h = _split_host(domain, "email")
        if h:
            hosts.setdefault(h.host, h)
    for domain in _BARE.findall(_EMAIL.sub(" ", without_urls))[:_MAX_HOSTS]:
        if len(hosts) >= _MAX_HOSTS:
            break
        tld = domain.rsplit(".", 1)[-1].lower()
        if tld in _FILELIKE_TLDS:
            continue
        h = _split_host(domain, "bare")
        if h and h.host not in hosts and _extractor()(h.ascii_host or h.host).suffix:
            hosts[h.host] = h
    own = [h for d in own_domains if isinstance(d, str) and (h := _split_host(d.strip(), "own"))]
    return _Message(raw, visible, _fold(visible), headers, links, list(hosts.values()), hrefs, own)


# --------------------------------------------------------------------------------------------------
# Phrase rules: a rule fires on the first match of any of its patterns in the folded text; {ev} in its
# reason is the matched phrase.
# --------------------------------------------------------------------------------------------------

_NEGATION = re.compile(
    r"\b(never|not|don't|dont|do not|no one|nobody|won't|will not|under no circumstances|ikke|aldri|"
    r"inte|aldrig|nie|niemals|nicht)\b[^.!?,;:]{0,25}$"
)


@dataclass(frozen=True, slots=True)
class _PhraseRule:
    rule: str
    patterns: tuple[re.Pattern[str], ...]
    reason: str
    negatable: bool = False  # skip a match right after "never" / "do not" ("never share this code")
    unless: re.Pattern[str] | None = None  # skip a match with this nearby (80 characters before, 30 after)


def _rule(rule: str, reason: str, *patterns: str, negatable: bool = False, unless: str = "") -> _PhraseRule:
    return _PhraseRule(
        rule, tuple(re.compile(p) for p in patterns), reason, negatable, re.compile(unless) if unless else None
    )


_CODE_WORDS = r"(?:codes?|otp|pin|passcode|engangskode|engangskoden|koden|kode)"
# "give / send / tell / need" and "the (one-time) code" in Norwegian, Swedish and Danish (folded: no accents)
_ASK_NORDIC = (
    r"(oppgi|gi|send|sende|les opp|fortell|trenger|uppge|ge|skicka|las upp|beratta|behover|giv|oplys|laes op|"
    r"brug for)"
)
_GIFT_NORDIC = (
    r"\b(gavekort|presentkort|gutscheinkarten?|geschenkkarten?|(google[ -]?play|itunes|apple|steam|amazon)[ -]"
    r"(karten?|kort|gavekort|presentkort|gutscheine?))\b"
)
_PAY_WORDS = (
    r"(betal\w{0,5}|overfor\w{0,3}|innbetal\w{0,4}|indbetal\w{0,4}|uberweis\w{0,3}|zahl\w{0,3}|pay\w{0,4}|"
    r"transfer\w{0,3})"
)
_CODE_NORDIC = r"(engangskod\w{0,3}|sms-kod\w{0,3}|bankid-kod\w{0,3}|mitid-kod\w{0,3}|koden|kode|koder|koderne|koderna)"
PHRASE_RULES: tuple[_PhraseRule, ...] = (
    _rule(
        "code_request",
        'Asks you to pass on a one-time code ("{ev}"): with it someone can take over your account. '
        "No real company asks for it.",
        rf"\b(send|forward|share|give|tell|read|text|provide|pass|screenshot|whatsapp)( it)? (me|us|back|over)\b"
        rf"[^.?!\n]{{0,30}}\b(the|that|this|your|ur|those|these|its) ([^.?!\n ]+ ){{0,3}}{_CODE_WORDS}\b",
        rf"\b(send|forward|share|give|tell|read|text|reply|provide|pass|what('s| is| was))\b[^.?!\n]{{0,50}}\b"
        rf"{_CODE_WORDS} (that |which )?(you|u) (just |have |should )?(got|get|received|receive|were sent|"
        rf"will receive|'ll receive|'ll get|will get)\b",
        rf"\b{_CODE_WORDS} (that |which )?(you|u) (just )?(got|received|were sent)\b[^.?!\n]{{0,40}}\b(send|forward|"
        rf"share|give|tell|read|text)\b",
        r"\b(send|gi|oppgi|skicka|ge) (meg|mig|oss) (koden|engangskoden|koden du fikk|koden du fick)\b",
        r"\bkoden (du|som du) (fikk|mottok|fick)\b",
        rf"\b(need|want|require|reply with|send|give|tell|read|share|provide|forward)\b[^.?!\n]{{0,50}}\b{_CODE_WORDS} "
        r"(that |which )?(you|u|we|i) (just |have |should |have just )?(got|get|received|were sent|sent|texted)\b",
        rf"\b{_ASK_NORDIC}\b[^.?!\n]{{0,40}}\b{_CODE_NORDIC}\b[^.?!\n]{{0,20}}\b(du|som|vi|dere|ni|i) "
        r"(lige |nettopp |akkurat |just |precis |nu |na )?(nettopp |na |nu )?(har |hast )?(fikk|fick|fatt|mottok|"
        r"mottog|mottatt|modtaget|modtog|fik|faet|kom|sendte|skickade|sendt|skickat)\b",
        rf"\b(oppgi|uppge|giv|oplys|les opp|las upp|laes op) (meg |mig |oss |os )?{_CODE_NORDIC}\b",
        r"\b(nennen|geben|schicken|senden|mitteilen|durchgeben|sagen|diktieren|vorlesen)\b[^.?!\n]{0,40}\b(tan|"
        r"tan-code|sms-code|code|bestatigungscode|sicherheitscode|einmalcode|einmalpasswort|pin)\b[^.?!\n]{0,20}"
        r"\b(den|die|das) sie[^.?!\n]{0,25}\b(erhalten|bekommen|empfangen)\b",
        negatable=True,
        unless=r"\b(gavekort\w{0,3}|presentkort\w{0,3}|rabattkod\w{0,3}|gutschein\w{0,3}|gift|cards?|vouchers?|discount|promo|coupon|rabatt|rabattkode|rabattkoden|tracking|track|"
        r"sporing|sporingskode|postal|post|zip|area|qr|bar|dress|source|product|item|sku|article|colou?r|size|"
        r"referral|invite|coupon)\b",
    ),
    _rule(
        "credentials",
        'Asks for a password, PIN or card details ("{ev}"). Never send these in a message.',
        r"\b(send|give|tell|provide|confirm|enter|verify|update|reply with|share|type in|email)( me| us)?"
        r"( \S+){0,2} (your|ur|the) (online banking |bank |account |email |e-mail )?(password|passcode|pin( code)?|"
        r"login (details|credentials|info)|log-?in details|username and password|credentials|card (number|details)|"
        r"cvv|cvc|security code|bank ?id( code| password)?|social security number|ssn|personnummer|"
        r"fodselsnummer|mother's maiden name)\b",
        negatable=True,
    ),
    _rule(
        "verify_account",
        'Asks you to verify or update account or payment details ("{ev}").',
        r"\b(verify|confirm|validate|update|reactivate|re-activate|restore|unlock|reconfirm|re-confirm) (your|ur)"
        r"( \S+)? (account|identity|billing|payment (details|information|info|method)|card details|"
        r"credit card|debit card|login|log-in|sign-in|banking details)\b",
        r"\b(log ?in|sign ?in|click|tap)( \S+){0,4} (to|and) (verify|confirm|restore|unlock|reactivate|avoid|"
        r"update your (payment|billing|card))\b",
        r"\bscan the qr ?code( \S+){0,3} (to )?(pay|verify|log ?in|confirm|unlock)\b",
        r"\blogg? inn( \S+){0,3} (for a|og) (motta|bekrefte|verifisere|oppdatere|hente|fa|unnga)\b",
        r"\blogga in( \S+){0,3} (for att|och) (ta emot|bekrafta|verifiera|uppdatera|undvika)\b",
        r"\b(bekreft|verifiser|oppdater|bekrafta|verifiera|uppdatera) (din|dine|ditt|dina) "
        r"(konto|identitet|betalingsinformasjon|kortopplysninger|kontouppgifter|kortuppgifter)\b",
        r"\b(bestatigen|verifizieren|aktualisieren) sie (bitte )?(ihre|ihr) (daten|konto|identitat|kontodaten|"
        r"zahlungsdaten|kartendaten|zugangsdaten)\b",
        negatable=True,
    ),
    _rule(
        "payment_redirect",
        'Says bank or payment details have changed ("{ev}"). Check by phone, on a number you already know, '
        "before paying.",
        r"\b(bank|banking|account|payment|remittance|beneficiary|wire|payee|iban)( \S+)? (details|information|info|"
        r"instructions|account|number)s? (have|has) (recently |now )?(been )?(changed|updated|amended|modified)\b",
        # without have/has: only the sender's organisation announcing it ("our bank details changed")
        r"\bour (bank|banking|payment|remittance|beneficiary|wire|payee|iban) (details|information|info|"
        r"instructions|account|number)s? (are |is |got |just )?(changed|amended|modified)\b",
        r"\b(new|updated|changed|different|alternative|alternate) (bank|banking|beneficiary|payment|remittance|"
        r"receiving|iban|wire)( account)? (details|account|information|instructions|number)\b",
        r"\b(change|changes|update) (of|in|to) (our |the )?(bank|banking|payment|remittance|beneficiary) "
        r"(details|account|information)\b",
        # "we have changed / switched banks" in English, Norwegian, Swedish, Danish and German
        r"\b(we|we've|we have|our company has|the company has) (recently |just )?(switched|changed|moved) (banks?|"
        r"bank accounts?|banking provider|our bank( account)?)\b",
        r"\b(we|we've|we have|our company|the company) (now )?(have|has|got|opened) (a )?new (bank )?account\b",
        r"\b(byttet|skiftet|bytta|bytt|andrat|aendret|skiftede) (bank|bankkonto|bankforbindelse|bankgiro|"
        r"kontonummer)\b",
        r"\b(ny|nye|nytt|nya) (bankforbindelse|kontooplysninger|bankoplysninger|bankgiro\w{0,6})\b|\bbytte av bank\b",
        r"\b(bankgiro|bankgironumret|bankgironummer|kontonummer|plusgiro)(t|et)? (ar|har blivit|er) "
        r"(andrat|aendret|nytt)\b",
        r"\b(bankverbindung|kontoverbindung|bankdaten|iban)( \S+){0,2} (geandert|aktualisiert)\b",
        r"\b(andert|anderte) sich (unsere|die) (bankverbindung|kontoverbindung)\b",
        r"\bneue (bankverbindung|kontoverbindung)\b",
        r"\b(our )?(old|previous|usual|regular) (bank )?account( \S+){0,3} (is|has been|was|are) "
        r"(closed|no longer|under (audit|review)|frozen|suspended|not)",
        r"\b(do not|don't) (pay|use|send|transfer)( \S+){0,3} (the |our )?(old|previous|usual) (bank )?account\b",
        r"\bupdate (your|our) (records|system|vendor|supplier)( \S+){0,4} (bank|account|payment) details\b",
        r"\b(nytt|nye|endret|endrede|nya|andrat|andrade|nyt) (kontonummer|bankkonto|bankopplysninger|"
        r"betalingsinformasjon|bankuppgifter|kontonr)\b",
        r"\bkontonummer(et)? (vart|er|har) (blitt )?endret\b",
        r"\buse (the|this|our|my) (\S+ )?(account|iban|bank details|account details)( \S+){0,3} for (all )?(future|"
        r"upcoming|further|subsequent) (payments|invoices|transfers)\b",
        r"\b(all )?(future|upcoming|subsequent) (payments|invoices|transfers) (should|must|need to|are to) (now )?"
        r"(go|be (sent|paid|made|transferred|directed|routed))( \S+){0,2} to\b",
    ),
    _rule(
        "pay_new_account",
        'Asks you to pay to a new account or a new payee ("{ev}").',
        r"\b(pay|payment|transfer|remit|send|wire)( \S+){0,4} (to|into|via) (our|the|this|a) new( \S+)? account\b",
        r"\b(payments?|invoices?|transfers?)( \S+){0,4} (should|must|shall|are to|need to|will) (now )?(be )?"
        r"(made|paid|sent|transferred|go) (to|into) (our|the|this) new\b",
        r"\b(pay|transfer|send|wire|make)( \S+){0,6} (to|for) (a|an) new (supplier|vendor|partner|payee|beneficiary)\b",
        rf"\b{_PAY_WORDS}\b[^.?!\n]{{0,60}}\b(til|till|pa|auf|to|into|an) (var |vart |vores |den |det |unser |unsere "
        r"|das |die |our |the |this |en |ett |et )?(nye?|nya|nytt|neues?|neuen|new) (konto\w{0,3}|kontonummer\w{0,3}|"
        r"bankkonto\w{0,3}|bankgiro\w{0,6}|iban|account|bankverbindung|kontoverbindung|leverandor|leverantor|"
        r"samarbeidspartner|lieferanten?|supplier)\b",
    ),
    _rule(
        "safe_account",
        'Wants money moved to a "safe account" or BankID used during a call ("{ev}"): banks and police never do '
        "that. Hang up and call your bank yourself.",
        r"\b(move|transfer|send|flytte|flytta|flytt|overfor\w{0,6}|sikre|uberweisen|verschieben|godkjenn\w{0,5}|"
        r"godkann\w{0,3}|godkend\w{0,3})\b[^.?!\n]{0,60}\b(safe|secure|protected|sikker|sikret|sakert|sakra|sichere?s?|"
        r"geschutzte?s?) (account|konto|kontoen|kontot)\b",
        r"\b(log in|log on|logg inn|logge inn|logga in|legitimer\w{0,4}|signer\w{0,2}|sign|godkjenn\w{0,5}|"
        r"godkann\w{0,3}|godkend\w{0,3}|open|apne|oppna|abn)\b[^.?!\n]{0,40}\b(bank ?id|mitid)\b[^.?!\n]{0,60}"
        r"\b(while (i'm|i am|we're|we are)|mens (jeg|vi)|medan (jag|vi)|on the (phone|call|line)|(i|pa) telefonen|"
        r"under samtalen)\b",
        negatable=True,
    ),
    _rule(
        "authority_secrecy",
        'Pressure from a "boss" or secrecy ("{ev}"): a common CEO-fraud opening.',
        r"\bare you (at|by|near) (your|the) (desk|computer|office|pc)\b",
        r"\b(i need|need) (you to (do|handle|make|process) )?(a |an )?(quick|small|urgent|discreet|personal) "
        r"(favou?r|task|errand|payment|transfer)\b",
        r"\b(keep|treat) (this|it|the matter) (strictly )?(confidential|private|between (us|you and me)|"
        r"quiet|secret)\b",
        r"\b(don't|do not) (tell|mention|discuss|share)( this| it| anything)?( with)? (anyone|anybody|others|"
        r"the others|colleagues|the team|your colleagues)\b",
        r"\b(i'm|i am) (in a meeting|in meetings|boarding|travell?ing|on a (flight|plane|call))( \S+){0,4} "
        r"(can't|cannot|unable to|not able to) (talk|call|speak|take calls|answer)\b",
        r"\b(er du|ar du|bist du|sind sie) (pa|i|im) (kontoret|buro|office)\b",
        r"\b(ikke|inte) (si|fortell|nevn|sag|beratta|namn)( det| dette| detta)?( til| for)? (noen|nogon|nagon|andre)\b",
        r"\b(sagen sie|sag) (es |das )?niemandem\b",
        r"\b(dette|det|detta|das|dies|this) (er|ar|ist|is|skal|ska|bleibt|must|should)( \S+){0,2} (strengt |helt |"
        r"absolutt )?(konfidensielt|konfidentiellt|fortroligt|fortrolig|vertraulich|hemmelig|hemligt)\b",
        r"\bholdes (strengt )?(fortroligt|fortrolig|konfidensielt|hemmelig)\b",
        r"\b(prata|snakk|tal|sprechen sie|reden sie)( inte| ikke)? (med|mit) (nagon|noen|nogen|niemandem)\b",
        r"\bvertraulich\w{0,2} (ubernahme|angelegenheit|transaktion|zahlung|uberweisung)\b",
        r"\b(jeg|jag|ich) (trenger|behover|brauche) (en |eine |ein )?(rask|hurtig|snabb|diskret|dringende|schnelle|"
        r"kleine) (betaling|betalning|overforing|zahlung|uberweisung|tjeneste|tjanst|gefallen)\b",
        negatable=True,
    ),
    _rule(
        "gift_cards",
        'Asks for gift cards or their codes ("{ev}"): a payment that cannot be traced or refunded.',
        r"\b(gift ?cards?|gift ?vouchers?|(itunes|apple|google ?play|steam|amazon|razer( gold)?|ebay|vanilla) "
        r"(gift )?(cards?|codes?)|paysafe ?cards?|neosurf)\b[^\n]{0,150}\b(scratch|the codes?|card (codes?|numbers?)|"
        r"(pictures?|photos?|pics?|images?|snapshots?|screenshots?) of|reimburse|how many( \S+){0,3} (can|could) you "
        r"(get|buy|purchase|pick up))\b",
        r"\b(scratch|(pictures?|photos?|pics?|screenshots?) of|reimburse|buy (me |us )?(\d+|some|several|a few|"
        r"multiple)|purchase (\d+|some|several|a few|multiple)|get (me )?(\d+|some|several))\b[^\n]{0,150}\b"
        r"(gift ?cards?|(itunes|apple|google ?play|steam|amazon|razer( gold)?|ebay|vanilla) (gift )?cards?|"
        r"paysafe ?cards?)\b",
        rf"{_GIFT_NORDIC}[^\n]{{0,150}}\b((send|skick|schick|mail)\w{{0,3}}( \S+){{0,3}} (kodene|koderna|koderne|codes|"
        r"fotos|bilder|bilde|bild)|betaler (deg |dig )?tilbake|betalar (dig )?tillbaka|betaler dig tilbage)\b",
    ),
    _rule(
        "gift_card_payment",
        'Wants payment in gift cards ("{ev}").',
        r"\b(pay|paid|payment|settle)( \S+){0,3} (by|with|in|using|via) (\S+ ){0,2}(gift ?cards|itunes|"
        r"google ?play|steam cards|paysafe ?cards?)\b",
    ),
    _rule(
        "crypto",
        'Asks for cryptocurrency ("{ev}"): payments that cannot be reversed.',
        r"\b(send|transfer|pay|deposit|invest|buy)( \S+){0,5} (bitcoins?|btc|usdt|tether|ethereum|eth|"
        r"crypto(currency)?|litecoin|dogecoin)\b",
        r"\b(bitcoin|btc|crypto|usdt|eth) (wallet|address|atm)\b",
        r"\bwallet address\b",
    ),
    _rule(
        "investment",
        'Promises easy money: investment profits or loans for anyone ("{ev}").',
        r"\b(guaranteed (returns?|profits?|income|loans?|approval)|double your (money|investment|bitcoin|crypto)|"
        r"risk[- ]free (investment|returns?|profits?)|\d+ ?% (daily|weekly|monthly) (returns?|profits?)|"
        r"investment opportunity|strong[- ]buy|even (if|with) (you have )?bad credit|no credit checks?)\b",
    ),
    _rule(
        "wire",
        'Asks for a money transfer service or wire ("{ev}").',
        r"\b(western union|moneygram|ria money transfer|worldremit)\b",
        r"\bwire (the|a|this) (money|funds|payment|transfer|amount)\b",
    ),
    _rule(
        "advance_fee",
        'Talks about an inheritance, a fund transfer or millions ("{ev}"): the classic advance-fee scam.',
        r"\b(inheritance|next of kin|unclaimed (funds|fortune|estate|inheritance)|transfer (of )?(the )?funds|"
        r"compensation (fund|payment) of|diplomatic (bag|courier)|"
        r"\d+(\.\d+)? ?million (us )?(dollars|usd|euros?|pounds|gbp))\b",
    ),
    _rule(
        "overpayment",
        'Overpayment story ("{ev}"): the buyer\'s payment will bounce after you refund the difference.',
        r"\b(overpaid|over-?payment|paid (you )?too much|sent (you )?(too much|extra|more than)|refund (me |us )?"
        r"the (difference|excess|balance|extra)|(my|our) (shipping agent|mover|courier|agent) will (collect|pick up|"
        r"come for))\b",
    ),
    _rule(
        "remote_access",
        'Wants remote access to your computer ("{ev}").',
        r"\b(install|download|open|run)( \S+){0,3} (anydesk|teamviewer|rustdesk|quick ?support|ultraviewer|"
        r"remote (access|desktop|support) (app|software|tool))\b",
        r"\b(anydesk|teamviewer) (id|code|number)\b",
    ),
    _rule(
        "prize",
        'Says you have won something or should claim a prize ("{ev}").',
        r"\b(you|u|ur|you've|youve|you're|u r|you are) (have |has |are |r )?(just )?(won|been (selected|chosen|picked)|"
        r"(a |the )?(lucky |grand )?winner|awarded|been awarded|guaranteed)\b(?!')",
        r"\b(claim|collect|redeem) ((your|ur|yr|the|a|this|free) (\S+ ){0,2})?(prize|reward|winnings|gift|cash|bonus|"
        r"voucher|award|holiday|cruise)s?\b",
        r"\b(selected|chosen) to (receive|win|claim)\b",
        r"\b(are|r|may be|maybe|be) entitled to (claim|receive|a refund of|\d|£|\$|€|compensation)",
        r"\bto claim,? (just )?(call|text|txt|reply|visit|go|click|log)\b",
        r"\b(du har vunnet|du har vunnit|du har vundet)\b",
    ),
    _rule(
        "prize_words",
        'Prize or lottery language ("{ev}").',
        r"\b(lottery|jackpot|sweepstakes?|prize draw|lucky draw|cash prize|grand prize)\b",
        r"(?<![\d,])(\d|£|\$|€)[\d,]* ?(cash|prize)\b",  # from a number's start only: linear on long digit runs
        r"\b(lucky day|(claim|prize|bonus) code|un-?redeemed( \S+)? points)\b",
        r"\b((kr|nok|sek|dkk) til gode|(you are|you're|you have been) (due|eligible for|owed) an? (tax )?refund|"
        r"tax refund of)\b",
        r"\bcongratulations?\b[^.!?]{0,80}\b(won|winner|selected|prize|reward|gift|cash|voucher)\b",
        r"\b(chances?|chance) (to|2) win\b",
    ),
    _rule(
        "premium_rate",
        'Wants you to call or text a premium-rate number ("{ev}"), which can cost a lot per minute.',
        r"(?<![\d+])(09\d|087[0-3]|070)([ -]?\d){7,8}(?!\d)",
        r"\b(text|txt|send|reply|sms|rply)( \S+){0,3} (to|2) (\d{5})\b",
        r"(?<![\d.,£$€])\d{2,3} ?p ?(/|per|pm|p/)? ?(min|minute|msgs?|txt|text|sms|wk|week|tone|rcvd|recd|mtmsg|day|"
        r"poly)\b",
        r"\bmsgs? ?@ ?(£\d|\d+p\b)",
        r"\b\d{2,3} ?ppm\b",
        r"[£$€]\d+(\.\d\d)? ?(/|per|a|to)? ?(msgs?|min|minute|wk|week|txt|text|rcv|rcvd|recd)\b",
    ),
    _rule(
        "new_number",
        '"New number" story with a request for money ("{ev}"): call the person on their old number first.',
        r"\b(this is|here is|it's|its|i have|i've got|i got) (my|a) new (phone )?(number|phone|mobile|nr)\b[^\n]{0,200}"
        r"\b(pay|transfer|send|lend|borrow|bill|invoice|money|payment|betale|overfore|laane|lane|faktura)\b",
        r"\b(dette er|det er) (mitt|det) nye (nummer|nummeret)\b[^\n]{0,200}\b(betale|overfore|lane|faktura|"
        r"regning|penger)\b",
    ),
    _rule(
        "off_platform",
        'Wants to move the conversation to another app ("{ev}"), out of sight of the platform.',
        r"\b(contact|message|text|add|reach|chat( with)?|write( to)?|dm|ping|call) (me|us) (on|via|through|at|over) "
        r"(whatsapp|telegram|signal|viber|wechat|kik)\b",
        r"\b(whatsapp|telegram) (me|us)\b",
        r"\b(reply|respond|answer|write)( to)?( me| us)? (on|via|through|over) (whatsapp|telegram|signal|viber)\b",
        r"\b(my|our) (whatsapp|telegram|signal)( number| no| nr| handle| id)?( is)?\b",
        r"\b(move|continue|switch|take)( this| the| our)?( conversation| chat| discussion| talk)? (to|on|over to) "
        r"(whatsapp|telegram|signal|viber)\b",
    ),
    _rule(
        "urgency",
        'Puts you under time pressure ("{ev}").',
        r"\bwithin (the next )?(\d+|twenty[- ]four|forty[- ]eight|one|two|three|a few) ?(hours?|hrs?|h|days?|"
        r"minutes?|mins?)\b",
        r"\b(urgent(ly)?|immediately|act now|respond now|reply now|call now|final (notice|reminder|warning)|"
        r"last (chance|warning|reminder|notice)|expires? (today|tonight|soon|in \d+)|today only|time[- ]sensitive|"
        r"don't delay|before it's too late|limited time)\b",
        r"\bvalid (for )?(only )?\d+ ?(hours?|hrs|days?)\b",
        r"\b(final|last|2nd|second|3rd|third) (contact )?attempt( to (contact|reach))?\b",
        r"\b(haster|umiddelbart|snarest|innen \d+ timer|siste (frist|varsel|sjanse)|bradskande|omedelbart|"
        r"inom \d+ timmar)\b",
        rf"\b{_PAY_WORDS}\b[^.?!\n]{{0,60}}\b(today|immediately|asap|at once|i dag|idag|senast idag|heute( noch)?|"
        r"sofort|umgehend|straks|med det samme)\b",
        r"\b(otherwise|or else|ellers|annars|sonst)\b[^.?!\n]{0,30}\b(stop\w{0,3}|halt\w{0,2}|suspend\w{0,3}|"
        r"block\w{0,3}|sperr\w{0,3}|spaerr\w{0,3}|einstellen|cancel\w{0,3}|stenge\w{0,2}|lukke\w{0,2})\b",
        r"\b(inden \d+ timer|hurtigst muligt|dringend\w{0,2}|innerhalb von \d+ (stunden|tagen))\b",
    ),
    _rule(
        "account_threat",
        'Threatens that your account or card will be blocked ("{ev}").',
        r"\b(your|ur)( \S+){0,2} (account|card|access|profile|mailbox|subscription|membership|payment method|apple id|"
        r"bank ?id)( \S+){0,3} (has been|have been|was|is|will be|are|is being) (temporarily |permanently |now )?"
        r"(suspended|locked|blocked|disabled|limited|restricted|deactivated|terminated|frozen|compromised|deleted|"
        r"on hold)\b",
        r"\b(unusual|suspicious|unauthori[sz]ed|irregular) (sign-?in|log-?in|login attempts?|access)\b",
        r"\b(we|we've|we have) (noticed|detected|identified|seen|registered)( \S+){0,3} (unusual|suspicious|"
        r"unauthori[sz]ed|irregular) (activity|transactions?|payments?|charges?|purchases?)\b",
        r"\bif (this|it|that) (wasn't|was not|isn't|is not) you,? (please )?(call|phone|ring|contact us (on|at))\b",
        r"\b(to )?(avoid|prevent) (the )?(\S+ )?(suspension|closure|termination|deactivation|being (locked|suspended|"
        r"closed|blocked))\b",
        r"\b(mailbox|storage) (is )?(full|almost full|over (its )?quota)\b",
        r"\b(konto|kort)(en|et)? (din|ditt|ditt)? ?(er|blir|har blitt|har|kommer att) (sperret|stengt|suspendert|"
        r"blokkert|sparrats|sparrat|stangts|stangas|blockerats|blockerat)\b",
        r"\b(den|kontoen|kortet|adgangen|konto)( \S+)? (bliver|vil blive|er blevet) (spaerret|lukket|blokeret|"
        r"deaktiveret)\b",
        r"\b(ihr|ihre|dein|deine)( \S+)? (konto|kundenkonto|karte|kreditkarte|zugang|postfach)( \S+){0,3} (wurde|wird|"
        r"ist|wurden) (vorubergehend |dauerhaft |jetzt |leider )?(gesperrt|eingeschrankt|deaktiviert|blockiert|"
        r"gekundigt)\b",
    ),
)


def _phrase_signals(msg: _Message) -> list[Signal]:
    out = []
    for rule in PHRASE_RULES:
        for pattern in rule.patterns:
            hit = None
            for m in pattern.finditer(msg.text):
                if rule.negatable and _NEGATION.search(msg.text[max(0, m.start() - 50) : m.start()]):
                    continue
                if rule.unless and rule.unless.search(msg.text[max(0, m.start() - 80) : m.end() + 30]):
                    continue
                hit = m
                break
            if hit:
                out.append(Signal(rule.rule, WEIGHTS[rule.rule], rule.reason.format(ev=_clip(hit.group(0)))))
                break
    return out


# A genuine bank change sends you to a channel you already trust: the portal, or a call to a number you know.
_KNOWN_CHANNEL = re.compile(
    r"\b(supplier|customer|vendor) portal\b|\b(leverandorportal|kundeportal|leverantorsportal|kundportal|"
    r"kundenportal)\w{0,3}\b|\bnumber (in|on) (your|the|our) (contract|agreement)\b|\bnumber you already (know|have)\b"
    r"|\b(telefonnummeret|nummeret) i avtalen\b|\bnumret i avtalet\b|\bdet saedvanlige nummer\b"
    r"|\bihnen bekannten nummer\b"
    r"|\bdo not act on\b"
)


def _bank_change_notice(signals: list[Signal], msg: _Message) -> list[Signal]:
    """A bank-change announcement that asks for no payment and points to the portal or a known number is
    kept as a low-weight reminder instead of a warning (real suppliers announce changes this way)."""
    rules = {s.rule for s in signals}
    if "payment_redirect" not in rules or "pay_new_account" in rules or not _KNOWN_CHANNEL.search(msg.text):
        return signals
    notice = Signal(
        "bank_change_notice",
        WEIGHTS["bank_change_notice"],
        "Announces new bank details and points to a channel you know: confirm them there, or by phone on a "
        "number you already have, before paying.",
    )
    return [notice if s.rule == "payment_redirect" else s for s in signals]


# --------------------------------------------------------------------------------------------------
# Rules that need more than a phrase
# --------------------------------------------------------------------------------------------------

# Fees that fake couriers collect: customs and redelivery fees need only an amount or "pay" nearby; ordinary
# shipping costs (in every order confirmation) count only when the message asks for them to be paid.
_SCAM_FEE = re.compile(
    r"\b((customs|import|clearance|redelivery|re-delivery|release|storage|toll|tull) ?(fee|charge|duty|duties|tax|"
    r"costs?|payment|gebyr|avgift|avgiften|gebyret)s?|customs duty|unpaid (fee|postage|shipping|customs|duty|duties)|"
    r"tollgebyr|tollavgift|fortollingsgebyr|tullavgift|tullavgiften|fortolling|(small|minor|additional|extra) "
    r"(fee|charge|payment|amount)|fee( \S+){0,5} (for|to cover) (the )?(customs|redelivery|delivery|release))\b"
)
_OTHER_FEE = re.compile(
    r"\b((delivery|shipping|postage|handling|frakt) ?(fee|charge|costs?|payment|gebyr|avgift)s?|fraktavgift)\b"
)
_AMOUNT = re.compile(r"\b(kr|nok|sek|dkk|eur|gbp|usd|euros?|pounds?)\b|[£$€]\s?\d|\d\s?[£$€]")
_PAY_REQUEST = re.compile(
    r"\b(pay|settle|betal|betala|betale|must be paid|needs to be paid|has to be paid|to be paid|is due|are due|"
    r"outstanding|unpaid|ubetalt|obetald)\b"
)
_PARCEL = re.compile(
    r"\b(parcel|package|shipment|delivery|item|pakke|pakken|pakka|sending|forsendelse|forsendelsen|"
    r"paket|paketet|forsandelse|forsandelsen|leveranse|leverans)\b"
)
_HOLD = re.compile(
    r"\b(parcel|package|shipment|delivery|item|pakke|pakken|paket|paketet|forsendelse|forsendelsen|forsandelse)"
    r"( \S+){0,4} (is |has been |was |have been |are |er |har |ar |kunne ikke |kan inte )?(on hold|held|being held|"
    r"suspended|stopped|detained|returned|undeliverable|could not be delivered|can't be delivered|cannot be "
    r"delivered|holdt tilbake|stoppet|stoppats|leveres|levereras)\b"
    r"|\b(failed|unsuccessful|missed) delivery( attempt)?\b|\bdelivery (failed|attempt failed|was unsuccessful)\b"
    r"|\b(incomplete|invalid|incorrect|wrong) (address|house number|delivery (address|information|details))\b"
    r"|\b(reschedule|re-schedule|confirm) (your )?(delivery|shipping address)\b"
    r"|\b(tried|attempted|trying|unable|were unable) to (make a |make your )?deliver(y)?\b"
)
_CALL_OR_LINK = re.compile(r"(?<![\d+])(\+?\d[\d -]{6,14}\d)(?!\d)")
_DELIVERY_BRAND = re.compile(rf"\b({_DELIVERY_WORDS})\b")
_DELIVERY_BRAND_CASED = re.compile(r"\b(UPS|Bring)\b")
_DELIVERY_NAMES = {"royal mail": "Royal Mail", "royalmail": "Royal Mail"} | {
    t: b.name for b in BRANDS for t in b.tokens
}


def _delivery_signals(msg: _Message) -> list[Signal]:
    brand = _DELIVERY_BRAND.search(msg.text) or _DELIVERY_BRAND_CASED.search(msg.raw)
    brand_name = brand.group(0) if brand else ""
    fee = None
    for pattern, needs in ((_SCAM_FEE, (_PAY_REQUEST, _AMOUNT)), (_OTHER_FEE, (_PAY_REQUEST,))):
        for m in pattern.finditer(msg.text):
            near = msg.text[max(0, m.start() - 120) : m.end() + 120]
            if any(n.search(near) for n in needs):
                fee = m
                break
        if fee:
            break
    if fee and (brand or _PARCEL.search(msg.text)):
        who = f"{_DELIVERY_NAMES.get(brand_name.lower(), brand_name.title())} " if brand else ""
        return [
            Signal(
                "delivery_fee",
                WEIGHTS["delivery_fee"],
                f'Asks for a {who}parcel fee ("{_clip(fee.group(0))}"): couriers\' names are used to collect '
                "fake customs and redelivery fees.",
            )
        ]
    hold = _HOLD.search(msg.text)
    if hold and (brand or msg.links or _CALL_OR_LINK.search(msg.text)):
        return [
            Signal(
                "delivery_hold",
                WEIGHTS["delivery_hold"],
                f'Says a parcel is held or undelivered ("{_clip(hold.group(0))}"): check in the courier\'s '
                "own app, not through a link in the message.",
            )
        ]
    return []


def _describe(host: _Host) -> str:
    shown = host.host if len(host.host) <= 60 else host.registered
    return f"{shown} = {host.ascii_host}" if host.ascii_host and len(host.ascii_host) <= 60 else shown


def _link_signals(msg: _Message) -> list[Signal]:
    out: list[Signal] = []
    found: dict[str, list[str]] = {}

    def add(rule: str, what: str) -> None:
        items = found.setdefault(rule, [])
        if what not in items:
            items.append(what)

    for link in msg.links:
        if link.ip:
            add("ip_link", link.ip)
        if link.userinfo and link.host and "." in link.userinfo:
            add("userinfo_link", f"{_clip(link.userinfo, 30)}@{link.host.registered}")
    own_registered = {h.registered for h in msg.own}
    for host in msg.hosts:
        if host.registered in own_registered:
            continue
        if host.registered in _SHORTENERS and host.kind != "email":
            add("shortener", host.registered)
        if host.ascii_host and any(ord(c) > 127 for c in host.host):
            add("punycode", f"{host.host} ({host.ascii_host})")
        if host.suffix.rsplit(".", 1)[-1] in _RISKY_TLDS and host.kind != "email":
            add("risky_tld", host.registered)
        imitated: dict[str, list[str]] = {"brand_in_domain": [], "lookalike_domain": []}
        for brand in BRANDS:
            if _is_official(host, brand):
                continue
            kinds = {_imitates(host, token, brand.substring) for token in brand.tokens}
            if "lookalike" in kinds:
                imitated["lookalike_domain"].append(brand.name)
            elif "brand" in kinds:
                imitated["brand_in_domain"].append(brand.name)
        if imitated["brand_in_domain"]:
            add("brand_in_domain", f"{_describe(host)}, not {' or '.join(imitated['brand_in_domain'])}")
        if imitated["lookalike_domain"]:
            add("lookalike_domain", f"{_describe(host)}, looks like {' or '.join(imitated['lookalike_domain'])}")
        for own in msg.own:
            if _imitates_own(host, own):
                add("own_lookalike", f"{_describe(host)}, looks like your {own.registered}")
    for item in _claimed_name_hosts(msg, own_registered):
        add("claimed_name_domain", item)
    for href, shown in msg.hrefs:
        shown_hosts = [_parse_url(u).host for u in _URL.findall(shown)] + [
            _split_host(d, "bare") for d in _BARE.findall(_URL.sub(" ", shown))
        ]
        target = _parse_url(href)
        goes_to = target.host.registered if target.host else target.ip
        for shown_host in shown_hosts:
            if shown_host and goes_to and shown_host.registered != goes_to:
                add("href_mismatch", f"shows {shown_host.registered}, goes to {goes_to}")
    # a message signed like an SMS sender ("DHL: ...", "PostNord Sverige - ...") that links elsewhere
    opening = _SENDER_PREFIX.match(msg.raw.lstrip()[:80])
    url_hosts = [link.host for link in msg.links if link.host]
    if url_hosts and opening:
        for brand in BRANDS:
            if brand.named_in(opening.group(1)) and not any(_is_official(h, brand) for h in url_hosts):
                if not any(h.registered in own_registered for h in url_hosts):
                    add("brand_link_mismatch", f"{brand.name} -> {url_hosts[0].registered}")
                break
    texts = {
        "ip_link": "Link goes to a bare IP address ({x}) instead of a named website.",
        "userinfo_link": "Link hides its real destination behind a fake name ({x}).",
        "shortener": "Link is shortened ({x}), hiding where it really goes.",
        "punycode": "Link uses look-alike international letters ({x}).",
        "risky_tld": "Link goes to a domain ending often used by throwaway scam sites ({x}).",
        "brand_in_domain": "Uses a company's name in a domain that is not the company's ({x}).",
        "lookalike_domain": "Look-alike domain ({x}).",
        "own_lookalike": "Imitates your own domain ({x}).",
        "href_mismatch": "A link shows one address but goes to another ({x}).",
        "brand_link_mismatch": "Claims to be from a company but links to another site ({x}).",
        "claimed_name_domain": "Puts the sender's company name in someone else's web address ({x}).",
    }
    for rule, items in found.items():
        listed = ", ".join(items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")
        out.append(Signal(rule, WEIGHTS[rule], texts[rule].format(x=listed)))
    return out


# "this is Shimano Nordic", "Invoice from Bergen Packaging", "Fjellstoff AS here": who the message says it is from
# (each word must end where its letters end, so a long run of capitals cannot be split in many ways)
_WORD = r"[A-ZÆØÅÄÖÜ][\w&'’\-]{1,30}(?![\w&'’\-])"
_NAME = rf"({_WORD}(?: {_WORD}){{0,2}})"
_CLAIMED_NAME = re.compile(
    rf"(?:\b(?i:this is|it's|it is|here is|dette er|det er|det her er|det här är|detta är|hier ist|hier spricht|"
    rf"greetings from|invoice from|faktura fra|faktura från|rechnung von|message from|from)) {_NAME}"
    rf"|{_NAME} (?i:here|her|här|hier)\b"
)
_LEGAL_WORDS = frozenset("as asa ab aps ltd gmbh oy inc llc co the team".split())
# Platforms that give each customer a subdomain (acme.myshopify.com is Acme's own shop)
_TENANT_PLATFORMS = frozenset(
    "myshopify.com sharepoint.com zendesk.com freshdesk.com atlassian.net visma.net tripletex.no fiken.no "
    "fortnox.se e-conomic.com dinero.dk hubspot.com wixsite.com squarespace.com github.io webflow.io netlify.app "
    "onmicrosoft.com my.site.com salesforce.com bamboohr.com".split()
)


def _claimed_names(msg: _Message) -> list[tuple[str, str]]:
    """(name as written, compact folded form) of the companies the message claims to come from."""
    found = [m.group(1) or m.group(2) for m in _CLAIMED_NAME.finditer(msg.visible[:5000])]
    found += [_parse_address(v)[0] for k, v in msg.headers if k == "from"]
    out = []
    for name in found[:20]:
        words = [w for w in re.split(r"[\s\-]+", _fold(name).replace("'s", "")) if w and w not in _LEGAL_WORDS]
        compact = re.sub(r"[^a-z0-9]", "", "".join(words))
        if len(compact) >= 5 and not any(compact in b.tokens for b in BRANDS):
            out.append((name.strip(), compact))
    return out


def _claimed_name_hosts(msg: _Message, own_registered: set[str]) -> list[str]:
    """Hosts that carry the claimed sender's name while their registered domain is someone else's:
    shimano-nordic.example-pay.com for "Shimano Nordic", fjellstoff-invoice.com for "Fjellstoff AS"."""
    names = _claimed_names(msg)
    out: list[str] = []
    for host in msg.hosts if names else ():
        if host.registered in own_registered or host.registered in _TENANT_PLATFORMS:
            continue
        label = host.label.replace("-", "")
        sub = re.sub(r"[.\-_]", "", host.subdomain)
        for name, compact in names:
            in_label = compact in label and label != compact and bool(_GLUE_EXTRA.match(label.replace(compact, "", 1)))
            if in_label or (compact in sub and compact not in label):
                out.append(f'"{_clip(name, 30)}" on {_describe(host)}, a site under {host.registered}')
                break
    return out


_GLUE_EXTRA = re.compile(
    r"^(invoice|invoices|faktura|rechnung|pay|payment|payments|secure|login|portal|docs|billing|"
    r"account|online|verify|betal|betaling|kunde|kund|customer|service|support|-)+$"
)

_SENDER_PREFIX = re.compile(r"^([^\W\d][\w&.']*(?: [\w&.']+){0,2})\s*[:|\-–]\s")  # "DHL Express: ", "Posten - "


def _imitates_own(host: _Host, own: _Host) -> bool:
    if host.registered == own.registered or host.host.endswith("." + own.registered):
        return False
    label = own.label
    if host.label == label:  # same name, other ending: nordlys-outdoor.com for nordlys-outdoor.no
        return True
    if own.registered in host.subdomain or (len(label) >= 5 and label in host.label):
        return True
    if len(label) >= 5:
        sk, own_sk = _skeleton(host.label), _skeleton(label)
        if sk == own_sk or _near(host.label, label) or _near(sk, own_sk):
            return True
        flat = host.label.replace("-", "")
        if flat == label.replace("-", "") or _near(flat, label.replace("-", "")):
            return True
    return False


def _parse_address(value: str) -> tuple[str, str]:
    """(display name, address) of a header value; ("", "") for one the parser cannot take (a hostile
    "From: ((((..." recursed out of `assess`, which must never raise)."""
    try:
        return email.utils.parseaddr(value[:1000])
    except (RecursionError, ValueError, IndexError):
        return "", ""


def _header_signals(msg: _Message) -> list[Signal]:
    out: list[Signal] = []
    froms = [v for k, v in msg.headers if k in ("from", "sender")]
    from_domains: list[_Host] = []
    mismatch = None
    for value in froms[:5]:
        name, addr = _parse_address(value)
        if "@" not in addr:
            continue
        sender = _split_host(addr.rsplit("@", 1)[1], "email")
        if not sender:
            continue
        from_domains.append(sender)
        folded_name = _fold(name)
        embedded = _EMAIL.search(folded_name)
        if embedded:
            shown = _split_host(embedded.group(1), "email")
            if shown and shown.registered != sender.registered:
                mismatch = mismatch or f"The sender's name shows {embedded.group(0)} but the mail comes from {addr}."
        for brand in BRANDS:
            if brand.named_in(name) and not _is_official(sender, brand):
                mismatch = mismatch or (
                    f'The sender is named "{_clip(name, 40)}" but writes from '
                    f"{sender.registered}, which is not {brand.name}'s."
                )
                break
        for own in msg.own:
            own_name = own.label.replace("-", " ")
            if len(own_name) >= 4 and own_name in folded_name.replace("-", " ") and sender.registered != own.registered:
                mismatch = mismatch or (
                    f'The sender uses your own name ("{_clip(name, 40)}") but writes from {sender.registered}.'
                )
    if mismatch:
        out.append(Signal("display_mismatch", WEIGHTS["display_mismatch"], mismatch))
    reply_to = [v for k, v in msg.headers if k == "reply-to"]
    if from_domains and reply_to:
        _, addr = _parse_address(reply_to[0])
        target = _split_host(addr.rsplit("@", 1)[1], "email") if "@" in addr else None
        if target and all(target.registered != f.registered for f in from_domains):
            out.append(
                Signal(
                    "reply_to_mismatch",
                    WEIGHTS["reply_to_mismatch"],
                    f"Replies would go to {target.registered}, not to the sender's {from_domains[0].registered}.",
                )
            )
    auth = " ".join(v.lower() for k, v in msg.headers if k == "authentication-results")
    failed = re.findall(r"\b(spf|dkim|dmarc)=(fail|softfail|permerror)\b", auth)
    if failed:
        out.append(
            Signal(
                "auth_fail",
                WEIGHTS["auth_fail"],
                "The mail failed the sender checks (" + ", ".join(f"{a}={b}" for a, b in failed[:3]) + ").",
            )
        )
    return out


_EXECUTABLE = r"exe|scr|pif|bat|cmd|js|jse|vbs|vbe|wsf|wsh|msi|msix|ps1|hta|jar|lnk|iso|img|vhd|vhdx|cpl|reg|appx|apk"
_MACRO = r"docm|dotm|xlsm|xltm|xlam|xlsb|pptm|potm|ppam|ppsm|sldm"
_DOUBLE_EXT = re.compile(
    rf"(?i)\b[\w\-()\[\] ]{{1,80}}\.(pdf|docx?|xlsx?|jpe?g|png|txt|rtf|zip)\s{{0,20}}\.({_EXECUTABLE}|com)\b"
)
_EXEC_FILE = re.compile(rf"(?i)(?<![\w.@])([\w\-()\[\]]{{1,80}}\.({_EXECUTABLE}))\b(?![\w.\-/@])")
_MACRO_FILE = re.compile(rf"(?i)(?<![\w/.@])([\w\-()\[\]]{{1,80}}\.({_MACRO}))\b(?![\w.\-/@])")
_NOT_FILES = frozenset({"node.js", "next.js", "vue.js", "react.js", "three.js", "d3.js", "express.js", "nuxt.js"})
_PROTECTED = re.compile(
    r"\b(zip|rar|7z|archive|attachment|attached file|document|file|pdf)( \S+){0,6} (password|passcode|pw|kode|"
    r"passord|losenord)( \S+){0,2} ?(is|:|=|er|ar)\s"
)


def _attachment_signals(msg: _Message) -> list[Signal]:
    out = []
    double = _DOUBLE_EXT.search(msg.visible)
    if double:
        out.append(
            Signal(
                "double_extension",
                WEIGHTS["double_extension"],
                f'File name "{_clip(double.group(0).strip(), 50)}" hides a program behind a document name.',
            )
        )
    else:
        for m in _EXEC_FILE.finditer(msg.visible):
            name = m.group(1)
            if name.lower() in _NOT_FILES:
                continue
            out.append(
                Signal(
                    "executable_attachment",
                    WEIGHTS["executable_attachment"],
                    f'Mentions a program file ("{_clip(name, 50)}"): opening it can install malware.',
                )
            )
            break
    macro = _MACRO_FILE.search(msg.visible)
    if macro:
        out.append(
            Signal(
                "macro_attachment",
                WEIGHTS["macro_attachment"],
                f'Mentions an Office file with macros ("{_clip(macro.group(1), 50)}"): do not enable content.',
            )
        )
    protected = _PROTECTED.search(msg.text)
    if protected:
        out.append(
            Signal(
                "protected_archive",
                WEIGHTS["protected_archive"],
                "Sends a password for an attachment, a trick to get malware past virus scanners.",
            )
        )
    return out


_MIXED_WORD = re.compile(r"\b\w*(?:[a-zA-Z][\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][a-zA-Z])\w*\b")
_HIDDEN_IN_WORD = re.compile(r"\w[\u00ad\u200b-\u200d\u2060\ufeff]+\w")


def _obfuscation_signals(original: str, msg: _Message) -> list[Signal]:
    mixed = _MIXED_WORD.search(unicodedata.normalize("NFKC", msg.raw))
    if mixed:
        return [
            Signal(
                "obfuscation",
                WEIGHTS["obfuscation"],
                f'Mixes letters from different alphabets in one word ("{_clip(mixed.group(0), 30)}"), '
                "a trick to slip past filters.",
            )
        ]
    if _HIDDEN_IN_WORD.search(original[:MAX_CHARS]):
        return [
            Signal(
                "obfuscation",
                WEIGHTS["obfuscation"],
                "Hides invisible characters inside words, a trick to slip past filters.",
            )
        ]
    return []


# --------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------

_EXTRA_RULES: tuple[Callable[[_Message], list[Signal]], ...] = (
    _delivery_signals,
    _link_signals,
    _header_signals,
    _attachment_signals,
)


# Languages the phrase rules are written for (Nynorsk reads close enough to Bokmål). Elsewhere a "safe" means
# only that no link or header trick was seen: the verdict says so in a reason (weight 0, risk unchanged).
RULE_LANGUAGES = ("en", "no", "nn", "da", "sv", "de")
_LANGUAGE_SAMPLE = 1_200  # characters judged: enough to tell the language, and bounded


@functools.cache
def _language_judge() -> Any:
    """The desk's language identifier (py3langid, checked at load), or False when it cannot be loaded."""
    try:
        from safedesk.guards.language import LanguageIdentifierGuard

        return LanguageIdentifierGuard(RULE_LANGUAGES)
    except Exception:  # a missing or damaged model must not break the check: no note then
        return False


def _low_confidence(msg: _Message) -> list[Signal]:
    judge = _language_judge()
    if not judge:
        return []
    verdict = judge.judge(msg.visible[:_LANGUAGE_SAMPLE])
    if not verdict.flagged:
        return []
    from safedesk.guards.language import language_name

    return [
        Signal(
            "low_confidence",
            0.0,
            f"Not sure: this looks like {language_name(verdict.language)}, which the checker has no phrase rules "
            'for, so "safe" means only that no link or sender trick was seen.',
        )
    ]


def assess(text: str, *, own_domains: Iterable[str] = ()) -> ScamAssessment:
    """Risk, verdict and reasons for one pasted message. Never raises on a `str`."""
    if not isinstance(text, str):
        raise ScamInputError(f"text must be a string, not {type(text).__name__}")
    msg = _prepare(text, (own_domains,) if isinstance(own_domains, str) else own_domains)
    signals = _bank_change_notice(_phrase_signals(msg), msg)
    for rule in _EXTRA_RULES:
        signals += rule(msg)
    signals += _obfuscation_signals(text.encode("utf-8", "replace").decode("utf-8"), msg)
    best: dict[str, Signal] = {}
    for s in signals:
        if s.rule not in best or s.weight > best[s.rule].weight:
            best[s.rule] = s
    ordered = tuple(sorted(best.values(), key=lambda s: (-s.weight, s.rule)))
    risk = round(combine(s.weight for s in ordered), 3)
    if risk < SAFE_BELOW:
        ordered += tuple(_low_confidence(msg))
    return ScamAssessment(risk=risk, verdict=verdict_for(risk), signals=ordered)


def _clean_id(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8")


def scam_line(item: Mapping[str, Any], *, own_domains: Iterable[str] = ()) -> dict[str, Any]:
    """The output object of `safedesk scam` for one input object `{"id", "text"}`:
    `{"id", "risk": 0..1, "verdict": "safe|suspicious|dangerous", "reasons": [str, ...]}`.

    Raises `ScamInputError` (a `ValueError`) when `item` is not an object with string `id` and `text`.
    """
    if not isinstance(item, Mapping):
        raise ScamInputError(f'expected an object {{"id", "text"}}, got {type(item).__name__}')
    if "text" not in item:
        raise ScamInputError('missing field "text" (the message to check, a string)')
    if not isinstance(item["text"], str):
        raise ScamInputError(f'field "text" must be a string, not {type(item["text"]).__name__}')
    if not isinstance(item.get("id"), str):
        raise ScamInputError('field "id" must be a string' if "id" in item else 'missing field "id" (a string)')
    result = assess(item["text"], own_domains=own_domains)
    return {
        "id": _clean_id(item["id"]),
        "risk": float(result.risk),
        "verdict": result.verdict,
        "reasons": result.reasons,
    }
