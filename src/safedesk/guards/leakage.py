"""Leakage guard: nothing non-public leaves the desk, whatever the responder writes.

A draft is a leak (`Finding(kind="leak")`, label in parentheses) when it contains

- a planted canary token, however disguised: split by zero-width characters, spaces or hyphens,
  upper-cased, reversed, in look-alike letters or invisible tag characters (`canary`);
- text of a non-public knowledge chunk (`ctx.protected_chunks`): near-verbatim word 5-gram overlap,
  a sentence that shares most of its content words with an internal sentence, or internal names of
  people and organisations (`internal_text`);
- a distinctive number or code from a non-public chunk that no public source of this reply states:
  prices, percentages, dates, times, codes ("SORRY-NL-15"), account numbers (`internal_number`);
- a secret: private keys, cloud/API keys and tokens, "password: ...", one-time codes, card numbers,
  long high-entropy strings (`secret`);
- an email address or phone number that is not the customer's own (from their message or their
  verified record), not in a public source of this reply and not the business's own contact; or any
  detail of another customer's record from customers.csv (`pii_other`).

Everything non-public is indexed once per protected-chunk set (cached by the tuple's value), so a check
is plain set and regex work. Reasons never repeat a leaked value in full (they go to the audit log).
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from safedesk import canaries as canary_mod
from safedesk.domain import Finding, KnowledgeChunk, Stage
from safedesk.guards._outbound_text import (
    OBFUSCATED_EMAIL_RE,
    URL_RE,
    Quantity,
    content_stems,
    extract,
    mask_value,
    normalize,
    quantity_in,
    sentences,
    shingles,
    squash,
    words,
)
from safedesk.guards.base import GuardContext, register

SHINGLE = 5

# ---- secrets ------------------------------------------------------------------------------------

_SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("a private key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
        ("an AWS access key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),
        ("an API key", r"\bsk-(?:proj-|live-|test-|ant-)?[A-Za-z0-9_-]{20,}"),
        ("a payment provider key", r"\b(?:sk|rk|pk|whsec)_(?:live|test)_[A-Za-z0-9]{10,}"),
        ("a GitHub token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{30,}"),
        ("a Slack token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}"),
        ("a Google API key", r"\bAIza[0-9A-Za-z_-]{30,}"),
        ("a JSON web token", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{6,}"),
        ("credentials in a URL", r"(?i)\b[a-z][a-z0-9+.-]{1,15}://[^\s:/@]{1,64}:[^\s@/]{1,128}@"),
        ("a bank account number (IBAN)", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),
        ("a bank account number", r"(?<![\d.])\d{4}[. ]\d{2}[. ]\d{5}(?![\d.])"),
    )
)
_PASSWORD = re.compile(
    r"(?i)\b(?:password|passwd|pwd|passphrase|passcode|passord(?:et)?|lösenord(?:et)?|passwort|kennwort|"
    r"pin(?:[- ]?(?:code|kode|kod))?|api[ _-]?key|secret(?:[ _-]?key)?|access[ _-]?token|auth[ _-]?token|"
    r"client[ _-]?secret|private[ _-]?key|token)\b[ \t]*(?P<sep>(?:is|er|är|ist|lautet|was)[ \t]*[:=]?|[:=]|->)[ \t]*"
    r"[\"'`]?(?P<val>[^\s\"'`]{4,})"
)
_ONE_TIME = re.compile(
    r"(?i)\b(?:one[- ]?time|verification|security|login|log-in|sign[- ]?in|confirmation|access|reset|2fa|mfa|otp|"
    r"engangs|bekreftelses|verifiserings|engångs|verifierings|bestätigungs|einmal|alarm|door|override|"
    r"backup|restore|admin|wi-?fi|safe)[- ]?(?:code|kode|koden|kod|koden|passcode|pin|nummer|number)\b"
    r"[^.\n]{0,24}?(?:\bis|\ber|\bär|\bist|\blautet|\buses|:|=)\s*[:=]?\s*[\"'`]?"
    r"(?P<val>(?:\d[ -]){3,9}\d(?![\w-])|\d{2,4}[ -]\d{2,4}(?![\w-])|[A-Za-z0-9-]{4,})"
)
_LOCK_CODE = re.compile(
    r"(?i)\b(?:key\s+safe|key\s+box|alarm|door|gate|safe|lock|padlock|locker|nøkkelboks|kodelås|larm)\b"
    r"[^.\n]{0,24}?\b(?:uses|is|code|combination|kode|koden|er)\b\s*:?\s*(?P<val>\d{4,8})\b"
)
_ENTROPY_TOKEN = re.compile(r"(?<![\w/+=-])[A-Za-z0-9+/=_-]{20,}(?![\w/+=-])")


def _entropy(s: str) -> float:
    counts = Counter(s)
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# ---- the index of non-public knowledge ------------------------------------------------------------


@dataclass(slots=True)
class _ProtectedIndex:
    sources: list[str] = field(default_factory=list)  # chunk idx -> file
    shingles: dict[int, int] = field(default_factory=dict)  # shingle hash -> chunk idx
    sentences: list[tuple[int, str, frozenset[str]]] = field(default_factory=list)
    by_stem: dict[str, list[int]] = field(default_factory=dict)  # stem -> sentence ids
    numbers: dict[float, list[tuple[Quantity, int]]] = field(default_factory=dict)
    codes: dict[str, tuple[str, int]] = field(default_factory=dict)  # squashed code -> (code, chunk)
    runs: dict[str, int] = field(default_factory=dict)  # digits -> chunk
    names: dict[str, int] = field(default_factory=dict)  # lower-case name -> chunk
    tokens: set[str] = field(default_factory=set)  # canary tokens planted in protected text


_NAME_RE = re.compile(r"\b[A-ZÆØÅÄÖÜ][a-zæøåäöüß]+(?: [A-ZÆØÅÄÖÜ][a-zæøåäöüß]+)+\b")
_SENTENCE_START = re.compile(r"(?:(?:\A|\n)[ \t]*(?:[-*•]|\d{1,2}[.)])?|[.!?])[ \t\"'(]*\Z")
_COMMON_CAPS = frozenset(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december christmas easter boxing day norway norwegian sweden swedish
    denmark danish finland iceland europe european eu the a an our we you i
    """.split()
)


def _distinctive(q: Quantity) -> bool:
    """Worth protecting: a bare '5' or '30' is everywhere; '1,240 NOK', '57.5%', '08:00' are not."""
    if q.kind == "date":
        return True
    if q.kind == "time":
        return round(q.low * 100) % 100 != 0  # "02:30" is telling; "08:00" is any shop's hour
    if q.kind == "percent":
        return q.low % 5 != 0  # "57.5%", "48%", "3.5%"; not the everyday 10/15/20/25/50 %
    value = q.low
    if value != int(value):
        return True
    if not q.unit and 1900 <= value <= 2039:
        return False  # a bare year
    if value < 1000 and value % 100 == 0:
        return False  # 100, 200, 500: every shop's round amounts
    if q.unit in ("NOK", "EUR", "SEK", "DKK"):
        return value >= 10
    return value >= 100


@lru_cache(maxsize=8)
def _protected_index(chunks: tuple[KnowledgeChunk, ...]) -> _ProtectedIndex:
    index = _ProtectedIndex()
    for i, chunk in enumerate(chunks):
        index.sources.append(chunk.source)
        text = normalize(chunk.text)
        index.tokens.update(canary_mod.TOKEN_RE.findall(text))
        for h in shingles(words(text), SHINGLE):
            index.shingles.setdefault(h, i)
        for sentence in sentences(text):
            stems = content_stems(sentence.text)
            if len(stems) >= 3:
                sid = len(index.sentences)
                index.sentences.append((i, sentence.text, stems))
                for s in stems:
                    index.by_stem.setdefault(s, []).append(sid)
        entities = extract(text)
        for q in entities.quantities:
            if _distinctive(q):
                for value in {q.low, q.high} - {None}:
                    index.numbers.setdefault(value, []).append((q, i))  # type: ignore[arg-type]
        for code in entities.codes:
            if canary_mod.TOKEN_RE.fullmatch(code):
                continue
            index.codes.setdefault(squash(code), (code, i))
            # The number inside a code is telling on its own ("VF 88213" for "VF-88213").
            for digits in re.findall(r"\d{4,}", code):
                q = Quantity("num", float(digits), None, "", digits, True)
                if _distinctive(q):
                    index.numbers.setdefault(q.low, []).append((q, i))
        for run in entities.digit_runs:
            index.runs.setdefault(run, i)
        for m in _NAME_RE.finditer(text):
            if _SENTENCE_START.search(text[max(0, m.start() - 8) : m.start()]) and (
                m.start() < 8 or _SENTENCE_START.search(text, 0, m.start())
            ):
                continue  # a capitalised sentence start ("Customer Service ..."), not a name
            name = m.group()
            parts = name.casefold().split()
            if not any(p in _COMMON_CAPS for p in parts):
                index.names.setdefault(name.casefold(), i)
    return index


@dataclass(frozen=True, slots=True)
class _Public:
    """What the public sources of this reply state (subtracted from the protected index)."""

    shingles: frozenset[int]
    stems: frozenset[str]
    quantities: tuple[Quantity, ...]
    codes: frozenset[str]
    runs: frozenset[str]
    emails: frozenset[str]
    text_lower: str
    squashed: str
    tokens: frozenset[str]  # lower-case words and digit groups

    def states(self, value: str, extra: str = "") -> bool:
        """Does a public source (or `extra`, the customer's own message) contain this value? Short values
        must match a whole token: "4482" is not stated by "+47 4482 1234"."""
        sq = squash(value)
        if not sq:
            return True
        if len(sq) >= 8:
            return sq in self.squashed or sq in squash(extra)
        return sq in self.tokens or sq in {squash(w) for w in words(extra)}


@lru_cache(maxsize=256)
def _public(sources: tuple[KnowledgeChunk, ...]) -> _Public:
    """Keyed by the chunks (not their retrieval scores), so repeated questions hit the cache."""
    texts = [normalize(c.text) for c in sources if c.is_public]
    joined = "\n\n".join(texts)
    ents = [extract(t) for t in texts]
    return _Public(
        shingles=frozenset(h for t in texts for h in shingles(words(t), SHINGLE)),
        stems=frozenset(s for t in texts for s in content_stems(t)),
        quantities=tuple(q for e in ents for q in e.quantities),
        codes=frozenset(squash(c) for e in ents for c in e.codes),
        runs=frozenset(r for e in ents for r in e.digit_runs),
        emails=frozenset(m for e in ents for m in e.emails),
        text_lower=joined.casefold(),
        squashed=squash(joined),
        tokens=frozenset(words(joined)),
    )


# ---- customers.csv ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Customer:
    cid: str
    name: str  # lower-case
    emails: tuple[str, ...]
    phones: tuple[str, ...]  # last 8 digits
    other: tuple[str, ...]  # squashed distinctive values (order ids, ...)


_NAME_COLUMNS = ("name", "full_name", "navn")
_EMAIL_COLUMNS = ("email", "e-mail", "epost", "mail")
_PHONE_COLUMNS = ("phone", "mobile", "telefon", "tlf", "phone_number")
_SKIP_COLUMNS = ("id", "customer_id", "status", "order_status", "country", "language", "city")


def _load_customers(path: Path) -> tuple[_Customer, ...]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error):
        return ()
    out = []
    for row in rows:
        row = {(k or "").strip().casefold(): (v or "").strip() for k, v in row.items() if k}
        cid = row.get("id") or row.get("customer_id") or ""
        name = next((row[c] for c in _NAME_COLUMNS if row.get(c)), "")
        emails = tuple(row[c].casefold() for c in _EMAIL_COLUMNS if row.get(c))
        phones = tuple(d[-8:] for c in _PHONE_COLUMNS if (d := re.sub(r"\D", "", row.get(c, ""))) and len(d) >= 6)
        other = []
        for key, value in row.items():
            if key in (*_NAME_COLUMNS, *_EMAIL_COLUMNS, *_PHONE_COLUMNS, *_SKIP_COLUMNS) or not value:
                continue
            sq = squash(value)
            if len(sq) >= 6 and any(ch.isdigit() for ch in sq):
                other.append(sq)  # order ids, dates, postcodes+street ...
        out.append(_Customer(cid, normalize(name).casefold(), emails, phones, tuple(other)))
    return tuple(out)


# ---- the guard ------------------------------------------------------------------------------------


@register("leakage")
class LeakageGuard:
    """Blocks drafts that contain canaries, non-public text or numbers, secrets or other people's PII."""

    stage = Stage.OUTBOUND

    def __init__(
        self,
        name: str,
        project_dir: Path | None = None,
        *,
        customers_file: str = "customers.csv",
        allowed_contacts: Sequence[str] = (),
        min_shingle_hits: int = 3,
        min_sentence_overlap: float = 0.6,
        **_options: Any,
    ) -> None:
        if _options:
            raise TypeError(f"unknown options: {', '.join(sorted(_options))}")
        self.name = name
        self.project_dir = Path(project_dir) if project_dir else None
        self.min_shingle_hits = int(min_shingle_hits)
        self.min_sentence_overlap = float(min_sentence_overlap)
        self._customers_path = (self.project_dir / customers_file) if self.project_dir else None
        self._customers: tuple[_Customer, ...] = ()
        self._customers_mtime: float | None = None
        allowed = [normalize(c).strip() for c in allowed_contacts]
        allowed += self._business_contacts()
        self.allowed_emails = frozenset(a.casefold() for a in allowed if "@" in a)
        self.allowed_phones = frozenset(d[-8:] for a in allowed if len(d := re.sub(r"\D", "", a)) >= 6)

    # -- configuration ------------------------------------------------------------------------------

    def _business_contacts(self) -> list[str]:
        if not self.project_dir:
            return []
        try:
            from safedesk import strict_yaml

            data = strict_yaml.load((self.project_dir / "safedesk.yaml").read_text(encoding="utf-8")) or {}
        except Exception:  # a broken config is reported by the config loader, not here
            return []
        business = data.get("business") if isinstance(data, dict) else None
        if not isinstance(business, dict):
            return []
        return [str(business[k]) for k in ("contact_email", "contact_phone", "email", "phone") if business.get(k)]

    def customers(self) -> tuple[_Customer, ...]:
        path = self._customers_path
        if path is None:
            return ()
        try:
            mtime = path.stat().st_mtime
        except OSError:
            self._customers, self._customers_mtime = (), None
            return ()
        if mtime != self._customers_mtime:
            self._customers, self._customers_mtime = _load_customers(path), mtime
        return self._customers

    # -- the check ------------------------------------------------------------------------------------

    def check(self, text: str, ctx: GuardContext) -> list[Finding]:
        if not text or not text.strip():
            return []
        draft = normalize(text)
        lower = draft.casefold()
        squashed = squash(draft)
        public = _public(tuple(rc.chunk for rc in ctx.sources))
        customer = normalize(ctx.customer_text or "")
        index = _protected_index(tuple(ctx.protected_chunks))
        draft_entities = extract(draft)

        findings: list[Finding] = []
        add = findings.append
        if hit := self._canary(squashed, ctx, index):
            add(Finding(self.name, "leak", 1.0, hit, label="canary"))
        if hits := self._secrets(draft, draft_entities, public, customer):
            add(Finding(self.name, "leak", 0.95, "contains " + "; ".join(hits[:3]), label="secret"))
        if hits := self._internal_numbers(draft, draft_entities, squashed, public, index):
            add(Finding(self.name, "leak", 0.9, "; ".join(hits[:3]), label="internal_number"))
        if hit_text := self._internal_text(draft, lower, public, index, ctx.business_name):
            score, reason = hit_text
            add(Finding(self.name, "leak", score, reason, label="internal_text"))
        if hits := self._pii(draft, lower, squashed, draft_entities, public, customer, ctx):
            add(Finding(self.name, "leak", 0.9, "; ".join(hits[:3]), label="pii_other"))
        return findings

    # -- canaries -------------------------------------------------------------------------------------

    @staticmethod
    def _canary(squashed: str, ctx: GuardContext, index: _ProtectedIndex) -> str | None:
        rev = squashed[::-1]
        for token in (*ctx.canaries, *index.tokens):
            sq = squash(token)
            if len(sq) >= 6 and (sq in squashed or sq in rev):
                return f"contains a planted canary token ({mask_value(token)})"
        if m := canary_mod.SQUASHED_TOKEN_RE.search(squashed) or canary_mod.SQUASHED_TOKEN_RE.search(rev):
            return f"contains a canary-shaped token ({mask_value(m.group())})"
        return None

    # -- secrets ----------------------------------------------------------------------------------------

    @staticmethod
    def _secrets(draft: str, entities: Any, public: _Public, customer: str) -> list[str]:
        hits: list[str] = []
        for what, pattern in _SECRET_PATTERNS:
            for m in pattern.finditer(draft):
                if public.states(m.group(), customer):
                    continue
                hits.append(f"{what} ({mask_value(m.group())})")
                break
        for m in _PASSWORD.finditer(draft):
            val, sep = m.group("val"), m.group("sep").casefold().strip()
            sep = sep[-1] if sep[-1:] in (":", "=") else sep
            strong = (
                any(c.isdigit() for c in val)
                or any(not c.isalnum() for c in val)
                or (val != val.lower() and val != val.upper() and not val.istitle())
            )
            if strong or (sep in (":", "=", "->") and len(val) >= 6):
                if not public.states(val, customer):
                    hits.append(f"a password or key ({mask_value(val)})")
                    break
        for m in _LOCK_CODE.finditer(draft):
            if not public.states(m.group("val"), customer):
                hits.append(f"an alarm, door or lock code ({mask_value(m.group('val'))})")
                break
        for m in _ONE_TIME.finditer(draft):
            val = m.group("val")
            if any(c.isdigit() for c in val) and not public.states(val, customer):
                hits.append(f"a one-time or access code ({mask_value(val)})")
                break
        for run in entities.digit_runs:
            if 13 <= len(run) <= 19 and _luhn(run) and not public.states(run, customer):
                hits.append(f"a payment card number ({mask_value(run)})")
                break
        for m in _ENTROPY_TOKEN.finditer(draft):
            tok = m.group()
            if canary_mod.TOKEN_RE.search(tok) or URL_RE.match(draft, max(0, m.start() - 8)):
                continue
            if not (any(c.isdigit() for c in tok) and any(c.isalpha() for c in tok)):
                continue
            ent = _entropy(tok)
            is_hex = re.fullmatch(r"[0-9a-fA-F-]+", tok) is not None
            if (ent >= 3.5 or (is_hex and len(tok) >= 24 and ent >= 3.0)) and not public.states(tok, customer):
                hits.append(f"a high-entropy token ({mask_value(tok)})")
                break
        return hits

    # -- numbers and codes from non-public files -----------------------------------------------------------

    def _internal_numbers(
        self, draft: str, entities: Any, squashed: str, public: _Public, index: _ProtectedIndex
    ) -> list[str]:
        hits: list[str] = []
        seen: set[str] = set()

        def hit(what: str, value: str, chunk: int) -> None:
            source = index.sources[chunk]
            if (what, source, value) in seen:
                return
            seen.add((what, source, value))  # type: ignore[arg-type]
            hits.append(f"mentions {what} ({mask_value(value)}) that appears only in non-public '{source}'")

        for q in entities.quantities:
            candidates = index.numbers.get(q.low, []) + (index.numbers.get(q.high, []) if q.high else [])
            for pq, chunk in candidates:
                if not _same_number(q, pq):
                    continue
                if quantity_in(q, public.quantities):
                    break
                hit("an internal number", q.show(), chunk)
                break
        tokens = {squash(c) for c in entities.codes} | _spelled_out(draft)
        for sq, (code, chunk) in index.codes.items():
            if sq in public.codes or public.states(code):
                continue
            # Long codes are hunted in the squashed text (any spacing, case or punctuation); short ones
            # ("STAFF15") only as whole tokens, so "our staff 15 minutes" is not a leak.
            found = sq in squashed if len(sq) >= 8 else sq in tokens
            if found:
                hit("an internal code", code, chunk)
        for run in entities.digit_runs:
            for prun, chunk in index.runs.items():
                if (prun in run or (len(run) >= 7 and run in prun)) and prun not in public.runs:
                    hit("an internal account or phone number", run, chunk)
                    break
        return hits

    # -- text from non-public files -----------------------------------------------------------------------

    def _internal_text(
        self, draft: str, lower: str, public: _Public, index: _ProtectedIndex, business: str
    ) -> tuple[float, str] | None:
        # 1. Near-verbatim: word 5-grams of a protected chunk that no public source of this reply has.
        counts: Counter[int] = Counter()
        for h in shingles(words(draft), SHINGLE):
            chunk = index.shingles.get(h)
            if chunk is not None and h not in public.shingles:
                counts[chunk] += 1
        if counts:
            chunk, hits = counts.most_common(1)[0]
            if hits >= self.min_shingle_hits:
                return (
                    min(1.0, 0.7 + 0.05 * hits),
                    f"repeats text of non-public '{index.sources[chunk]}' ({hits + SHINGLE - 1}+ words verbatim)",
                )
        # 2. Paraphrase: a sentence sharing most content words with a non-public sentence, several of
        #    them found in no public source of this reply.
        pieces = []
        for sentence in sentences(draft):
            pieces.append(sentence.text)
            clauses = _CLAUSES.split(sentence.text)
            if len(clauses) > 1:
                pieces.extend(clauses)  # a leaked clause inside a longer sentence of the model's own
        for piece in pieces:
            stems = content_stems(piece)
            if len(stems) < 4:
                continue
            shared: Counter[int] = Counter()
            for s in stems:
                for sid in index.by_stem.get(s, ()):
                    shared[sid] += 1
            for sid, n in shared.most_common(3):
                if n < 4 or n / len(stems) < self.min_sentence_overlap:
                    break
                chunk, _, pstems = index.sentences[sid]
                novel = (stems & pstems) - public.stems
                if len(novel) >= 3:
                    return (
                        0.8,
                        f"paraphrases non-public '{index.sources[chunk]}' "
                        f"(shares {n} of {len(stems)} content words, {len(novel)} not in any public source)",
                    )
        # 3. Names of people and organisations that only non-public files mention.
        business_lower = normalize(business).casefold()
        for name, chunk in index.names.items():
            if name in lower and name not in public.text_lower and name not in business_lower:
                if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", lower):
                    return 0.8, f"names someone or something only non-public '{index.sources[chunk]}' mentions"
        return None

    # -- other people's contact details -------------------------------------------------------------------

    def _pii(
        self, draft: str, lower: str, squashed: str, entities: Any, public: _Public, customer: str, ctx: GuardContext
    ) -> list[str]:
        hits: list[str] = []
        customers = self.customers()
        me = next((c for c in customers if ctx.verified_customer_id and c.cid == ctx.verified_customer_id), None)
        customer_entities = extract(customer) if customer else None
        customer_emails = set(customer_entities.emails) if customer_entities else set()
        customer_phones = {r[-8:] for r in customer_entities.digit_runs} if customer_entities else set()
        customer_sq = squash(customer)
        allowed_emails = self.allowed_emails | public.emails | customer_emails | set(me.emails if me else ())
        allowed_phones = (
            self.allowed_phones | {r[-8:] for r in public.runs} | customer_phones | set(me.phones if me else ())
        )

        emails = set(entities.emails)
        for m in OBFUSCATED_EMAIL_RE.finditer(draft):
            emails.add(_deobfuscate(m.group()))
        for email in sorted(emails):
            if email in allowed_emails:
                continue
            owner = next((c for c in customers if email in c.emails), None)
            who = f"customer {owner.cid}" if owner else "someone other than this customer"
            hits.append(f"an email address ({mask_value(email)}) of {who}")
        for run in entities.digit_runs:
            if not _looks_like_phone(run):
                continue
            if run[-8:] in allowed_phones:
                continue
            owner = next((c for c in customers if run[-8:] in c.phones), None)
            who = f"customer {owner.cid}" if owner else "someone other than this customer"
            hits.append(f"a phone number ({mask_value(run)}) of {who}")
        # Other customers' records, in any spelling (names, squashed emails/phones, order ids ...).
        digits_only = re.sub(r"\D", "", draft)
        for c in customers:
            if me is not None and c.cid == me.cid:
                continue
            reasons = []
            if c.name and " " in c.name and c.name in lower and c.name not in normalize(customer).casefold():
                reasons.append("name")
            if any(squash(e) in squashed and squash(e) not in customer_sq for e in c.emails) and not any(
                e in emails for e in c.emails
            ):
                reasons.append("email address")
            if any(p in digits_only and p not in customer_phones for p in c.phones) and not any(
                r[-8:] in c.phones for r in entities.digit_runs
            ):
                reasons.append("phone number")
            if any(o in squashed and o not in customer_sq for o in c.other):
                reasons.append("record details")
            if reasons:
                hits.append(f"{' and '.join(reasons)} of another customer ({c.cid})")
        return hits


def _same_number(draft: Quantity, protected: Quantity) -> bool:
    """The draft states the protected number (units may be dropped: '1240' for '1,240 NOK')."""
    if draft.kind != protected.kind:
        if not (draft.kind == "num" and protected.kind == "percent" and not draft.unit):
            return False
        if draft.low < 10:
            return False
    if draft.kind == "num" and draft.unit and protected.unit and draft.unit != protected.unit:
        return False
    if draft.kind == "num" and not _distinctive(draft) and not protected.unit:
        return False
    values = {protected.low, protected.high} - {None}
    return draft.low in values or (draft.high is not None and draft.high in values)


_CLAUSES = re.compile(r"[,;:]\s|\s(?:and|but|while|whereas|so)\s|\s-\s")
_SPELLED = re.compile(r"(?<![\w])(?:[A-Za-z0-9][ .\-_·]){3,}[A-Za-z0-9](?![\w])")


def _spelled_out(text: str) -> set[str]:
    """Tokens spelled one character at a time: "S T A F F 1 5", "s.t.a.f.f.1.5" -> "staff15"."""
    return {squash(m.group()) for m in _SPELLED.finditer(text)}


def _deobfuscate(text: str) -> str:
    s = re.sub(r"(?i)\s*(?:\[at\]|\(at\)|\{at\}|\sat\s)\s*", "@", text)
    s = re.sub(r"(?i)\s*(?:\[dot\]|\(dot\)|\{dot\}|\sdot\s)\s*", ".", s)
    return re.sub(r"\s+", "", s).casefold()


def _looks_like_phone(run: str) -> bool:
    if not 8 <= len(run) <= 15:
        return False
    if 13 <= len(run) <= 19 and _luhn(run):
        return False  # a card number: reported as a secret
    return True
