"""The PII guard's recognizers (phones per region, cards, IBANs, Nordic IDs, order and account numbers,
dates of birth, addresses, names, obfuscated emails). `safedesk.guards.pii` builds the Presidio registry
from them and says what each label means."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache

import phonenumbers
from presidio_analyzer import (
    AnalysisExplanation,
    LocalRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    IbanRecognizer,
)

from safedesk.errors import ConfigError
from safedesk.guards._pii_engine import _LETTER, _LOWER, _UPPER, COMMON_WORDS

logger = logging.getLogger(__name__)

TITLES = frozenset(
    "mr mrs ms miss mx dr prof sir madam herr frau fru hr fr monsieur madame mme mlle señor señora sr sra "
    "frk frøken fräulein".split()
)

_PHONE_WORDS = re.compile(
    r"(?i)\b(?:phone|phones|tel|tlf|telephone|telefon|telefonnummer|telefonnr|mobile|mobil|mobilnummer|cell|"
    r"cellphone|handy|call|called|calling|ring|ringe|ringt|sms|text|texts|whatsapp|signal|fax|number|nummer|"
    r"numero|número|numéro|puhelin|puh|nr|no|contact|reach|reached|messages?|answering|office|landline|"
    r"hotline|dial)\b"
)


def _result(recognizer: LocalRecognizer, entity: str, start: int, end: int, score: float, why: str) -> RecognizerResult:
    return RecognizerResult(
        entity_type=entity,
        start=start,
        end=end,
        score=min(1.0, score),
        analysis_explanation=AnalysisExplanation(
            recognizer=recognizer.name, original_score=score, textual_explanation=why
        ),
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
        },
    )


class _Recognizer(LocalRecognizer):
    """A SafeDesk recognizer: no model to load, its own context handling (so Presidio's is skipped)."""

    ENTITIES: tuple[str, ...] = ()

    def __init__(self, name: str | None = None) -> None:
        super().__init__(supported_entities=list(self.ENTITIES), supported_language="en", name=name)

    def load(self) -> None:
        return None


def _context_before(text: str, start: int, pattern: re.Pattern[str], window: int = 40) -> bool:
    return bool(pattern.search(text, max(0, start - window), start))


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------------------------
# Phone numbers

# Digit groups with separators between them (never ambiguous: each group is a maximal digit run).
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+@/=#&.,:-])(?<![\w][.,:])"
    r"(?:\+|00)?\(?\d{1,15}\)?"
    r"(?:(?:[ \t]?-[ \t]?|[./]|[ \t]{1,2}|[ \t]?\(0\)[ \t]?|(?<=\)))\(?\d{1,15}\)?){0,11}"
    r"(?:[ \t]?(?:x|ext\.?|extension)[ \t]?\d{1,6})?"
    r"(?![\w@]|[.,:/-]\d)"
)
_EXTENSION = re.compile(r"(?i)[ \t]?(?:x|ext\.?|extension)[ \t]?\d{1,6}$")
_DIGIT_GROUP = re.compile(r"\+?\(\+?\d+\)|\+?\d+")
_DATE_LIKE = re.compile(r"^(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}[:.]\d{2}(?::\d{2})?)$")
_SSN_LIKE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_IP_LIKE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_AMOUNT_AFTER = re.compile(
    r"(?i)[ \t]?(?:kr|nok|sek|dkk|eur|usd|gbp|€|\$|£|%|,-|kg|g|km|m|cm|mm|pcs|stk)\b|[ \t]?[€$£%]"
)
_AMOUNT_BEFORE = re.compile(r"(?i)(?:kr\.?|nok|sek|dkk|eur|usd|gbp|€|\$|£)[ \t]?$")


@lru_cache(maxsize=8192)
def _phone_validity(number: str, regions: tuple[str, ...]) -> tuple[float, str]:
    """(score, why) for a phone-number candidate without context; 0 when it is no valid number."""
    if number.startswith("+"):
        try:
            parsed = phonenumbers.parse(number, None)
        except phonenumbers.NumberParseException:
            return 0.0, ""
        if phonenumbers.is_valid_number(parsed):
            return 0.9, "valid international number"
        if phonenumbers.is_possible_number(parsed):
            return 0.55, "possible international number"
        return 0.0, ""
    for region in regions:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return 0.7, f"valid {region} number"
    return 0.0, ""


class RegionalPhoneRecognizer(_Recognizer):
    """Phone numbers in national formats of the configured regions and in international format.

    A run of digit groups is split into the longest valid numbers from the left, so lists like
    "912 34 567 / 22 33 44 55" give two numbers. Groups that no region validates still count when a
    phone word ("call", "tlf", "mobile", "Phone:") comes just before them.
    """

    ENTITIES = ("PHONE_NUMBER",)
    MAX_GROUPS = 8
    # phonenumbers validations per text window; beyond it (hostile input) digit runs count unvalidated.
    MAX_VALIDATIONS = 150

    def __init__(self, regions: Sequence[str]) -> None:
        super().__init__(name="SafeDeskPhoneRecognizer")
        self.regions = tuple(r.upper() for r in regions)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results = []
        budget = [self.MAX_VALIDATIONS]  # per call: the recognizer is shared between threads
        for match in _PHONE_CANDIDATE.finditer(text):
            whole = match.group(0)
            if _DATE_LIKE.match(whole) or _SSN_LIKE.match(whole) or _IP_LIKE.match(whole):
                continue
            extension = _EXTENSION.search(whole)
            body = whole[: extension.start()] if extension else whole
            groups = [(match.start() + g.start(), match.start() + g.end()) for g in _DIGIT_GROUP.finditer(body)]
            # A number may only start or end where digit groups are apart by a space ("912 34 567 2 times"),
            # never inside a dash-joined token like a date or an SSN.
            cut = [True] + [any(ch.isspace() for ch in text[a[1] : b[0]]) for a, b in itertools.pairwise(groups)]
            cut.append(True)
            context = _context_before(text, match.start(), _PHONE_WORDS, 45)
            i = 0
            while i < len(groups):
                if not cut[i]:
                    i += 1
                    continue
                found = None
                for j in range(min(len(groups), i + self.MAX_GROUPS), i, -1):
                    if not cut[j]:
                        continue
                    start, end = groups[i][0], groups[j - 1][1]
                    scored = self._score(text, start, end, context, budget)
                    if scored is not None:
                        found = (j, start, end, *scored)
                        break
                if found is None:
                    i += 1
                    continue
                i, start, end, score, why = found
                if extension and i == len(groups):
                    end = match.end()  # "+1-903-140-4508x769": the extension belongs to the number
                results.append(_result(self, "PHONE_NUMBER", start, end, score, why))
                context = False  # the phone word belonged to the first number
        return results

    def _score(self, text: str, start: int, end: int, context: bool, budget: list[int]) -> tuple[float, str] | None:
        raw = text[start:end]
        digits = sum(ch.isdigit() for ch in raw)
        if not 6 <= digits <= 15:
            return None
        context = context or bool(_PHONE_WORDS.match(text, min(len(text), end + 1)))
        if digits < 7 and not context:
            return None
        international = raw.startswith(("+", "00", "(+"))
        if not international and (_DATE_LIKE.match(raw) or _SSN_LIKE.match(raw) or _IP_LIKE.match(raw)):
            return None
        if _AMOUNT_AFTER.match(text, end) or _AMOUNT_BEFORE.search(text, max(0, start - 5), start):
            return None
        if international:
            number = "+" + "".join(ch for ch in raw.replace("(0)", "").lstrip("(+") if ch.isdigit())
            if raw.startswith("00"):
                number = "+" + number[3:]
        else:
            number = "".join(ch for ch in raw if ch.isdigit() or ch in "()")
        if budget[0] <= 0:
            return (0.5, "unvalidated digit groups (too many to check)") if digits >= 7 else None
        budget[0] -= 1
        score, why = _phone_validity(number, self.regions)
        if score > 0:
            return min(1.0, score + (0.1 if context else 0.0)), why
        # Not valid anywhere we serve: still a phone number when the customer says so.
        if context and not international and digits >= 7 and (not raw.isdigit() or raw.startswith("0")):
            return 0.6, "digit groups after a phone word"
        return None


# ------------------------------------------------------------------------------------------------
# Payment cards, bank accounts, national identity numbers


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_prefix_ok(d: str) -> bool:
    n = len(d)
    two, four = int(d[:2]), int(d[:4])
    if d[0] == "4":  # Visa
        return n in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:  # Mastercard
        return n == 16
    if two in (34, 37):  # Amex
        return n == 15
    if four in (1800, 2131):  # JCB (old 15-digit)
        return n == 15
    if two == 35:  # JCB (assigned 3528-3589; test generators use all of 35xx)
        return 16 <= n <= 19
    if 300 <= int(d[:3]) <= 305 or two in (36, 38, 39):  # Diners
        return 14 <= n <= 19
    if 2200 <= four <= 2204:  # Mir
        return 16 <= n <= 19
    if d[0] == "6" or two == 50 or 56 <= two <= 58:  # Discover, UnionPay, Maestro
        return 12 <= n <= 19
    return False


class PaymentCardRecognizer(CreditCardRecognizer):
    """Presidio's card recognizer with all current card prefixes (Mastercard 2-series, JCB, Maestro...)."""

    def __init__(self) -> None:
        from presidio_analyzer import Pattern

        super().__init__(
            patterns=[Pattern("card digits", r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d]|-\d)", 0.75)],
            context=[*CreditCardRecognizer.CONTEXT, "kort", "kortnummer", "karte", "kreditkarte", "carte", "tarjeta"],
            name="SafeDeskCardRecognizer",
        )

    def validate_result(self, pattern_text: str) -> bool:
        digits = "".join(ch for ch in pattern_text if ch.isdigit())
        return len(set(digits)) > 1 and 12 <= len(digits) <= 19 and _card_prefix_ok(digits) and _luhn_ok(digits)


class CaseInsensitiveIbanRecognizer(IbanRecognizer):
    """Presidio's IBAN recognizer, also for IBANs typed in lower case ("gb42nawi0445...")."""

    def __init__(self) -> None:
        super().__init__(name="SafeDeskIbanRecognizer", regex_flags=re.DOTALL | re.MULTILINE | re.IGNORECASE)

    def validate_result(self, pattern_text: str) -> bool | None:
        return super().validate_result(pattern_text.upper())


_ID_WORDS = re.compile(
    r"(?i)\b(?:personnummer|personnr|fødselsnummer|fodselsnummer|fnr|f\.nr|cpr|cpr-nummer|cpr-nr|hetu|"
    r"henkilötunnus|personbeteckning|social security|national id|id number|identity number|ssn|"
    r"personal (?:id|number|identity code))\b"
)
_NO_FNR = re.compile(r"(?<![\d-])(\d{6})[ ]?(\d{5})(?![\d-])")
_SE_DK_ID = re.compile(r"(?<![\d-])((?:19|20)?\d{6})([-+])(\d{4})(?![\d-])")
_SE_ID_PLAIN = re.compile(r"(?<![\d-])((?:19|20)\d{6})(\d{4})(?![\d-])")
_FI_HETU = re.compile(r"(?<![\w-])(\d{6})([-+ABCDEFUVWXY])(\d{3})([0-9A-Y])(?![\w-])")
_FI_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def _no_fnr_ok(d: str) -> bool:
    w1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
    w2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    k1 = 11 - sum(int(a) * b for a, b in zip(d[:9], w1, strict=True)) % 11
    k1 = 0 if k1 == 11 else k1
    k2 = 11 - sum(int(a) * b for a, b in zip(d[:10], w2, strict=True)) % 11
    k2 = 0 if k2 == 11 else k2
    if k1 == 10 or k2 == 10 or k1 != int(d[9]) or k2 != int(d[10]):
        return False
    day, month = int(d[:2]), int(d[2:4])
    day = day - 40 if day > 40 else day  # D-number
    month = month - 40 if month > 40 else month  # H-number
    return _valid_date(2000, month, day)


class NordicIdRecognizer(_Recognizer):
    """Norwegian fødselsnummer, Swedish personnummer, Danish CPR and Finnish HETU, checked."""

    ENTITIES = ("NATIONAL_ID",)

    def __init__(self) -> None:
        super().__init__(name="SafeDeskNordicIdRecognizer")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        out = []
        for m in _NO_FNR.finditer(text):
            if _no_fnr_ok(m.group(1) + m.group(2)):
                score = 0.9 if _context_before(text, m.start(), _ID_WORDS) else 0.7
                out.append(_result(self, "NATIONAL_ID", m.start(), m.end(), score, "Norwegian national id (mod 11)"))
        for m in _SE_DK_ID.finditer(text):
            head, tail = m.group(1)[-6:], m.group(3)
            mm, dd = int(head[2:4]), int(head[4:6])
            se_date = _valid_date(2000, mm, dd - 60 if dd > 60 else dd)
            se = se_date and _luhn_ok(head + tail)
            dk = _valid_date(2000, int(head[2:4]), int(head[:2]))
            if se or dk:
                score = 0.9 if (se or _context_before(text, m.start(), _ID_WORDS)) else 0.6
                why = "Swedish personnummer (Luhn)" if se else "Danish CPR number (date)"
                out.append(_result(self, "NATIONAL_ID", m.start(), m.end(), score, why))
        for m in _SE_ID_PLAIN.finditer(text):
            head = m.group(1)[-6:]
            if _valid_date(2000, int(head[2:4]), int(head[4:6])) and _luhn_ok(head + m.group(2)):
                out.append(_result(self, "NATIONAL_ID", m.start(), m.end(), 0.8, "Swedish personnummer (Luhn)"))
        for m in _FI_HETU.finditer(text):
            number = int(m.group(1) + m.group(3))
            if _FI_CHECK[number % 31] == m.group(4).upper() and _valid_date(
                2000, int(m.group(1)[2:4]), int(m.group(1)[:2])
            ):
                out.append(_result(self, "NATIONAL_ID", m.start(), m.end(), 0.9, "Finnish HETU (check character)"))
        return out


_NO_ACCOUNT = re.compile(r"(?<![\d.-])(\d{4})[. ]?(\d{2})[. ]?(\d{5})(?![\d-]|\.\d)")


def _no_account_ok(d: str) -> bool:
    weights = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    rest = sum(int(a) * b for a, b in zip(d[:10], weights, strict=True)) % 11
    check = 0 if rest == 0 else 11 - rest
    return check != 10 and check == int(d[10])


# ------------------------------------------------------------------------------------------------
# Order, account and customer numbers

DEFAULT_ORDER_NUMBER_PATTERN = (
    r"(?i)(?:\b(?:order|orders|ordre|ordrenummer|ordernummer|ordernr|ordrenr|bestilling|bestillingsnummer|"
    r"beställning|beställningsnummer|bestellung|bestellnummer|bestelling|bestelnummer|commande|pedido|ordine|"
    r"tilaus|tilausnumero|zamówienie|zamowienie|invoice|faktura|fakturanummer|rechnung|rechnungsnummer|"
    r"purchase|purchases|kjøp|køb|köp|kauf|achat|compra|acquisto|receipt|kvittering|kvitto|tracking|sporing|sporingsnummer|sendungsnummer|shipment|parcel|package|pakke|"
    r"paket|reference|referanse|referens|ref|case|ticket|sak|saksnummer|rma|return|retur|booking|reservation)"
    r"(?:[ \t]*(?:number|nummer|nr|no|num|n[°º]|id|code|kode|ref))?\.?[ \t]*(?:is|er|är|ist|was|:|=)?[ \t]*#?[ \t]*"
    r"|(?<![\w&#])\#[ \t]?)"
    r"((?=[A-Z0-9-]*\d)[A-Z]{0,4}[-/]?\d{3,}[A-Z0-9]*(?:-[A-Z0-9]{1,8})?)(?![\w-]|[./]\d)"
)
_MIN_ORDER_DIGITS = 4

_ACCOUNT_NUMBER = re.compile(
    r"(?i)\b(?:account|acct|konto|kontonummer|kontonr|kundenummer|kundenr|kundnummer|kundennummer|"
    r"customer|kunde|kund|membership|medlemsnummer|member|loyalty|asiakasnumero|asiakasnro|client|"
    r"subscription|abonnement|policy|polise|contract|kontrakt|avtale)"
    r"(?:[ \t]*(?:number|nummer|nr|no|num|id|code|kode))?\.?[ \t]*(?:is|er|är|ist|:|=)?[ \t]*#?[ \t]*"
    r"((?=[A-Z0-9. -]*\d{3})[A-Z]{0,4}[-]?\d[\d. -]{2,22}\d)(?![\w-]|[./]\d)"
)


class ReferenceNumberRecognizer(_Recognizer):
    """Order numbers (after an order word, or a business's own pattern) and account/customer numbers."""

    ENTITIES = ("ORDER_NUMBER", "ACCOUNT_NUMBER")

    def __init__(self, order_pattern: str | None = None) -> None:
        super().__init__(name="SafeDeskReferenceRecognizer")
        source = order_pattern or DEFAULT_ORDER_NUMBER_PATTERN
        try:
            self.order_re = re.compile(source)
        except re.error as exc:
            raise ConfigError(f"pii guard: order_number_pattern is not a valid regular expression: {exc}") from None
        self.custom = order_pattern is not None

    @staticmethod
    def _span(match: re.Match[str]) -> tuple[int, int]:
        for group in range(match.re.groups, 0, -1):
            if match.group(group):
                return match.span(group)
        return match.span()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        out = []
        for m in self.order_re.finditer(text):
            start, end = self._span(m)
            value = text[start:end]
            if end <= start or (not self.custom and sum(ch.isdigit() for ch in value) < _MIN_ORDER_DIGITS):
                continue
            out.append(_result(self, "ORDER_NUMBER", start, end, 0.85, "number after an order word"))
        for m in _ACCOUNT_NUMBER.finditer(text):
            start, end = m.span(1)
            if sum(ch.isdigit() for ch in m.group(1)) >= 4:
                out.append(_result(self, "ACCOUNT_NUMBER", start, end, 0.8, "number after an account word"))
        for m in _NO_ACCOUNT.finditer(text):
            digits = m.group(1) + m.group(2) + m.group(3)
            if _no_account_ok(digits) and (m.group(0).count(".") == 2 or m.group(0).count(" ") == 2):
                out.append(_result(self, "ACCOUNT_NUMBER", m.start(), m.end(), 0.7, "Norwegian bank account (mod 11)"))
        return out


# ------------------------------------------------------------------------------------------------
# Dates of birth

_MONTHS = (
    r"(?:jan(?:uary|uar|vier)?|feb(?:ruary|ruar|rier)?|mar(?:ch|s|z)?|märz|apr(?:il)?|may|mai|mei|maj|"
    r"jun(?:e|i)?|juin|jul(?:y|i)?|juil(?:let)?|aug(?:ust)?|août|sep(?:t|tember|tembre)?|oct(?:ober|obre)?|"
    r"okt(?:ober)?|nov(?:ember|embre)?|dec(?:ember|embre)?|des(?:ember)?|dez(?:ember)?)\.?"
)
_DOB = re.compile(
    r"(?i)\b(?:born(?:[ \t]+(?:on|in))?|date[ \t]+of[ \t]+birth|birth[ \t]?date|birthday|d\.?o\.?b\.?|"
    r"født(?:[ \t]+den)?|fødselsdato|fødselsdag|född(?:[ \t]+den)?|födelsedatum|geboren(?:[ \t]+am)?|"
    r"geburtsdatum|syntymäaika|syntynyt|né(?:e)?[ \t]+le|fecha[ \t]+de[ \t]+nacimiento|nacid[oa]|"
    r"data[ \t]+di[ \t]+nascita|nato|nata|data[ \t]+urodzenia|urodzon[ay])"
    r"[ \t]*(?:is|er|är|ist|was|:|on|den|am)?[ \t]*:?[ \t]*"
    r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}\.?[ \t]+"
    + _MONTHS
    + r"[ \t]+\d{4}|"
    + _MONTHS
    + r"[ \t]+\d{1,2}(?:st|nd|rd|th)?,?[ \t]+\d{4})"
)


class DateOfBirthRecognizer(_Recognizer):
    ENTITIES = ("DATE_OF_BIRTH",)

    def __init__(self) -> None:
        super().__init__(name="SafeDeskDateOfBirthRecognizer")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [
            _result(self, "DATE_OF_BIRTH", m.start(1), m.end(1), 0.85, "date after a birth word")
            for m in _DOB.finditer(text)
        ]


# ------------------------------------------------------------------------------------------------
# Postal addresses

_W = rf"[{_LETTER}][{_LETTER}0-9'’.\-]{{0,30}}"  # a word that starts with a letter
_CAP = rf"[{_UPPER}][{_LETTER}'’.\-]{{0,30}}"  # a capitalised word
_HOUSE = r"\d{1,5}(?:[ \t]?[A-Za-z](?![\w]))?(?:[-/]\d{1,4})?"
_EN_FUNCTION = (
    r"(?!(?i:from|to|at|in|on|for|with|by|the|and|or|of|my|your|our|their|his|her|items?|pieces?|pcs|x|"
    r"times|days|weeks|months|years|hours|minutes|euros?|dollars?|pounds?|kroner|kronor|percent)\b)"
)
_EN_TYPES = (
    r"(?i:street|str|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|terrace|"
    r"crescent|close|square|sq|parkway|pkwy|highway|hwy|row|walk|gardens|mews|circle|cir|trail|parade|alley|"
    r"plaza|grove|squares|streets|roads|avenues|lanes|drives|courts|pass|union|view|ridge|hill|hills|park)\b\.?"
)
# Street words that end a compound name: Storgata, Kirkeveien, Søndergade, Hauptstraße, Koskikatu, Puruntie...
_COMPOUND_TYPES = (
    r"(gata|gatan|gate|gaten|gade|gaden|vei|veien|veg|vegen|vej|vejen|väg|vägen|vägen|gränd|stræde|straede|"
    r"straße|strasse|str\.|weg|platz|gasse|allee|damm|ufer|laan|straat|gracht|plein|steeg|dreef|katu|tie|kuja|"
    r"polku|raitti|kaari|rinne|torg|torget|plass|plassen|stien|stig|stigen|bakken|backe|backen|svingen|"
    r"haugen|vænget|parken|ulica|utca|iela|gatve|tänav|väylä|puistikko|ranta|stræti|vegur|braut|"
    r"gränd|stræde|vænge|toften|højen|marken|bakke|engen|berget|åsen|dalen|straße|gässle|steig)"
)
_COMPOUND_SUFFIXES = tuple(_COMPOUND_TYPES.strip("()").replace("\\", "").split("|"))
_HAS_DIGIT = re.compile(r"\d")


def _is_compound_street(word: str) -> bool:
    """ "Storgata", "Kirkeveien", "Hauptstr.": a longer word ending in a street word."""
    lower = word.lower()
    return any(lower.endswith(sfx) and len(lower) > len(sfx) + 1 for sfx in _COMPOUND_SUFFIXES)


_SEPARATE_TYPES = (
    r"(?i:gate|gata|gatan|vei|veg|vej|gade|allé|alle|plass|torg|väg|vägen|gränd|straße|strasse|weg|platz|"
    r"tér|utca|u\.|út|útja|körút|kapu|sor|köz|ulica|ul\.|aleja|al\.|tie|katu|str\.?|ring)"
)
_PREFIX_TYPES = (
    r"(?i:rua|rue|via|viale|vicolo|calle|carrer|avenida|avda\.|av\.|avenue|plaza|piazza|piazzale|corso|largo|"
    r"paseo|camino|travessa|travesía|estrada|boulevard|bd\.|chemin|allée|place|impasse|quai|route|strada|calea|"
    r"bulevardul|ulica|ul\.|aleja|al\.|plac|odos|οδός|λεωφόρος|λ\.|leof\.|c/|am|an der|auf der|im|in der|zum|zur)"
)
_PARTICLE = r"(?:de|del|della|di|da|do|dos|das|du|des|la|le|les|el|al|y|e|van|von|der|den|af|am|an)"

_ADDRESS_PATTERNS: tuple[tuple[re.Pattern[str], float, str], ...] = (
    (  # 12 Crown Street, 1668 Glyn St, 1987 74 Diakou Street, 159 Eleftheriou Venizelou str
        re.compile(rf"\b{_HOUSE}(?:[ \t]+\d{{1,5}})?,?[ \t]+(?:{_EN_FUNCTION}{_W}[ \t]+){{1,4}}?{_EN_TYPES}"),
        0.75,
        "house number, street name and street type",
    ),
    (  # Storgata 12, Kirkeveien 5B, Puruntie 82, Søndergade 52 (optionally preceded by a number)
        re.compile(
            rf"(?:\b\d{{1,5}}[ \t]+)?\b(?P<street>[{_LETTER}][{_LETTER}'’.\-]{{2,40}})[ \t]+{_HOUSE}(?![\w])\.?"
        ),
        0.75,
        "street name and house number",
    ),
    (  # Karl Johans gate 1, Bygdøy allé 2, Erzsébet tér 19., Király u. 15.
        re.compile(rf"\b(?:{_W}[ \t]+){{1,3}}{_SEPARATE_TYPES}[ \t]+{_HOUSE}(?![\w])\.?"),
        0.7,
        "street name, street type and house number",
    ),
    (  # Rua do Arenque 1634, Via Franscini 71, Calle Mayor 5, Am Markt 3
        re.compile(rf"\b{_PREFIX_TYPES}[ \t]+(?:(?:{_CAP}|{_PARTICLE})[ \t]+){{0,4}}{_CAP},?[ \t]+{_HOUSE}(?![\w])"),
        0.7,
        "street type, street name and house number",
    ),
    (  # 62 Rue Gafsa, 31 Rue Al Imam Al Bakri, 137 Avenue Teboulbi
        re.compile(
            rf"\b{_HOUSE},?[ \t]+(?i:rue|rua|via|avenue|avenida|calle|boulevard|bd|place|chemin|allée|impasse|"
            rf"quai|route|piazza|corso|plaza)[ \t]+{_CAP}(?:[ \t]+(?:{_CAP}|{_PARTICLE}(?=[ \t]+[{_UPPER}]))){{0,4}}"
        ),
        0.7,
        "house number, street type and street name",
    ),
    (  # Apt. 595, Suite 501, Unit 4 (on their own: weaker)
        re.compile(
            r"\b(?i:apt|apartment|suite|ste|unit|flat|leil|leilighet|lgh|wohnung|whg|piso)\.?[ \t]*#?[ \t]*"
            r"\d{1,5}[A-Za-z]?\b"
        ),
        0.55,
        "apartment or suite number",
    ),
    (  # PO Box 123, Postboks 45, PSC 0413, Box 8144, APO AA 42323
        re.compile(
            r"\b(?:(?i:p\.?[ \t]?o\.?[ \t]?box|post[ \t]?box|postboks|postfach|boîte postale|apartado)[ \t]*\d{1,6}"
            r"|(?i:psc|unit|cmr)[ \t]+\d{3,5},?[ \t]+(?i:box)[ \t]+\d{3,5}"
            r"|(?i:apo|fpo|dpo)[ \t]+(?i:aa|ae|ap)[ \t]+\d{5})\b"
        ),
        0.8,
        "post box",
    ),
    (  # a line "20789 Allika 46" / "4 Privet Drive" / "Storgata 12" followed by a postcode, unit or city line
        re.compile(
            rf"(?m)^[ \t]*(?:[^\w\s]{{1,3}}[ \t]+)?(?:\d{{1,5}}[ \t]+)?(?:{_W}[ \t]+){{1,4}}{_HOUSE}\.?[ \t]*"
            rf"(?=\r?\n[ \t]*(?:[^\w\s]{{1,3}}[ \t]+)?(?:\d{{3,5}}\b|"
            rf"(?i:apt|apartment|suite|ste|unit|flat|floor|box|c/o)\b|[{_UPPER}]{{2,}}|"
            rf"[{_UPPER}][{_LOWER}]+,?[ \t]*\r?\n))"
        ),
        0.65,
        "street line of a postal address block",
    ),
    (  # a line of its own "20789 Allika 46": number, words, number
        re.compile(rf"(?m)^[ \t]*(?:[^\w\s]{{1,3}}[ \t]+)?\d{{1,5}}[ \t]+(?:{_W}[ \t]+){{1,4}}{_HOUSE}\.?[ \t]*$"),
        0.6,
        "number-name-number line",
    ),
    (  # UK postcode
        re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR)[ \t]?\d[ABD-HJLNP-UW-Z]{2}\b"),
        0.6,
        "UK postcode",
    ),
)

_ADDRESS_CUE = re.compile(
    r"(?i)\b(?:(?:postal|postadresse|home|billing|shipping|delivery|new|old|street|mailing|levering(?:s)?)?[ \t]?"
    r"(?:address|adresse|adress|adressen|anschrift|osoite|indirizzo|dirección|direccion|adres)"
    r"(?:[ \t]+(?:of[ \t]+[^\n,.]{1,40}?|to|for[ \t]+[^\n,.]{1,30}?))?[ \t]*(?:\?[ \t]*(?:it[ \t]+is|it's|it’s))?"
    r"[ \t]*(?:is|er|är|ist|was|will be|:|=|-)?"
    r"|live[sd]?[ \t]+(?:at|on)|living[ \t]+(?:at|on)|resid(?:e|es|ing)[ \t]+at|moved[ \t]+to|move[ \t]+to|"
    r"(?:ship|send|deliver|mail|post|return|forward)(?:ed|ing|s)?[ \t]+(?:it|this|them|that|the[ \t]+\w+|my[ \t]+\w+)?"
    r"[ \t]*to|located[ \t]+(?:at|on)|(?:is|are|office|store|shop|restaurant)[ \t]+(?:at|on)|"
    r"meet[ \t]+(?:you|me|us)?[ \t]*at|drops?[ \t]+(?:you|me|us)?[ \t]*off[ \t]+at|"
    r"bor[ \t]+(?:i|på)|wohne[ \t]+(?:in|an|im)|asun|j'habite(?:[ \t]+au)?|vivo[ \t]+en|abito[ \t]+in)"
    r"[ \t]*[:\-]?[ \t]*(?:\r?\n[ \t]*){0,2}"
)
# After an address cue: [number] 1-5 words, then a house number (covers "Μεγάλη Άμμος 184", "Edeby 55").
_CUED_BODY = re.compile(rf"(?:\d{{1,6}}[ \t]+)?(?:{_W}[ \t]+){{1,5}}?\d{{1,5}}[A-Za-z]?(?![\w])\.?")
_ZIP_CUE = re.compile(
    r"(?i)\b(?:zip(?:[ \t]?code)?|post(?:al)?[ \t]?code|postcode|postnummer|postnr|plz|postinumero|code[ \t]postal|"
    r"cap|código[ \t]postal)\b\.?[ \t]*(?:is|er|är|ist|:)?[ \t]*:?[ \t]*"
    r"([A-Z0-9]{2,5}(?:[ -][A-Z0-9]{2,4})?)(?![\w-])"
)
# What may follow a street on the same or the next lines: unit, postcode + city, city [STATE] [zip], country.
_CITY = rf"[{_UPPER}][{_LETTER}'’\-]{{0,30}}"
_TAIL_SEP = re.compile(r"[ \t]*(?:[,;][ \t]*)?(?:(?:\r?\n[ \t]*(?:[^\w\s]{1,3}[ \t]+)?){1,2}(?:,[ \t]*)?)?")
_TAIL_UNIT = re.compile(
    r"(?i:apt|apartment|suite|ste|unit|flat|floor|fl|leil|lgh|box|etg|etasje|top|piso)\.?[ \t]*#?[ \t]*"
    r"\d{1,5}[A-Za-z]?(?![\w])\.?"
)
_TAIL_ITEMS = (
    _TAIL_UNIT,
    re.compile(rf"\d{{3,5}}(?:[ -]\d{{2,3}})?(?:[ \t]+{_CITY}(?:[ \t]+{_CITY}){{0,2}})?(?![\w])"),
    re.compile(r"(?:[A-Z]{1,2}\d[A-Z\d]?)[ \t]?\d[A-Z]{2}\b"),
    re.compile(
        rf"(?:{_CITY}|nan)(?:[ \t]+(?:{_CITY}|\({_CITY}\)|{_PARTICLE})){{0,3}}(?:,?[ \t]+[A-Z]{{2}})?"
        rf"(?:[ \t]+\d{{3,6}}(?:[ -]\d{{2,4}})?)?(?![\w])"
    ),
)
_TAIL_STOP = re.compile(
    r"(?i)(?:phone|tel|tlf|telefon|fax|e-?mail|website|web|mobile|mobil|handy|name|card|thanks|thank|please|regards|best|"
    r"hi|hello|dear|i|we|you|my|the|and|or|but|in|for|a|an|is|are|was|were|can|could|will|would|kind|mvh|hilsen|"
    r"order|ordre|iban|account|konto)\b"
)


def _extend_address(text: str, end: int, limit: int = 6) -> int:
    """Grow an address match over trailing unit numbers, postcodes, cities, states and countries.

    Across a comma or a line break anything address-like is taken; across a plain space only a unit
    ("Apt 4") or, right after the street, a postcode ("Storgata 12 0155 Oslo").
    """
    for step in range(limit):
        sep = _TAIL_SEP.match(text, end)
        pos = sep.end() if sep else end
        gap = text[end:pos]
        if pos == end or gap.count("\n") > 2 or _TAIL_STOP.match(text, pos):
            break
        loose = "," not in gap and ";" not in gap and "\n" not in gap
        grown = None
        for number, item in enumerate(_TAIL_ITEMS):
            if loose and not (number == 0 or (number == 1 and step == 0)):
                continue
            m = item.match(text, pos)
            if m and m.end() > pos:
                grown = m.end()
                break
        if grown is None:
            break
        end = grown
    return end


# Lower-case words a street pattern's leading "words" may take in before the street's name.
_ADDRESS_LEAD_WORDS = re.compile(
    r"(?:(?:to|at|in|on|the|my|our|your|from|via|and|til|till|på|i|fra|från|och|og|zu|nach|bei|an|und)[ \t]+)+"
)


class AddressRecognizer(_Recognizer):
    """Street addresses in the forms customers write them, extended over postcode/city/country lines."""

    ENTITIES = ("ADDRESS",)

    def __init__(self) -> None:
        super().__init__(name="SafeDeskAddressRecognizer")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        found: list[tuple[int, int, float, str]] = []
        if not _HAS_DIGIT.search(text):
            return []  # every address form here has a house number, postcode or box number
        for pattern, score, why in _ADDRESS_PATTERNS:
            for m in pattern.finditer(text):
                street = m.groupdict().get("street")
                if street is not None and not _is_compound_street(street):
                    continue
                found.append((m.start(), m.end(), score, why))
        for cue in _ADDRESS_CUE.finditer(text):
            body = _CUED_BODY.match(text, cue.end())
            if body and body.end() - body.start() <= 80:
                found.append((body.start(), body.end(), 0.7, "street and number after an address word"))
            elif cue.end() < len(text) and text[cue.end()].isdigit():
                # "lives at 25615 Tawastintie 72 ..." is covered above; a bare number after a cue is weak.
                pass
        for m in _ZIP_CUE.finditer(text):
            if any(ch.isdigit() for ch in m.group(1)):
                found.append((m.start(1), m.end(1), 0.6, "postcode after a postcode word"))
        out = []
        for start, end, score, why in found:
            lead = _ADDRESS_LEAD_WORDS.match(text, start, end)
            if lead:  # "Send it to Karl Johans gate 5": "to" is not part of the address
                start = lead.end()
            value = text[start:end].rstrip(" \t,")
            end = start + len(value)
            if not any(ch.isdigit() for ch in value):
                continue
            end = _extend_address(text, end)
            if text[end - 1] == "." and (end == len(text) or text[end].isspace()):
                end -= 1  # the sentence's full stop, not the address's
            out.append(_result(self, "ADDRESS", start, end, score, why))
        return out


# ------------------------------------------------------------------------------------------------
# Person names

_NAME = rf"[{_UPPER}][{_LOWER}'’\-]+(?:-[{_UPPER}][{_LOWER}]+)?"
_NAME_ANYCASE = rf"[{_LETTER}][{_LOWER}'’\-]+"
_STRONG_NAME_CUE = re.compile(
    rf"(?i:\bmy[ \t]+name[ \t]+is|\bmy[ \t]+name's|\bname[ \t]+is|\bjeg[ \t]+heter|\bmitt[ \t]+navn[ \t]+er|"
    rf"\bjag[ \t]+heter|\bmitt[ \t]+namn[ \t]+är|\bich[ \t]+heiße|\bich[ \t]+heisse|\bmein[ \t]+name[ \t]+ist|"
    rf"\bje[ \t]+m'appelle|\bme[ \t]+llamo|\bmi[ \t]+chiamo|\bnimeni[ \t]+on|\bnazywam[ \t]+się|"
    rf"\bmit[ \t]+navn[ \t]+er|"
    rf"\bnavnet[ \t]+mitt[ \t]+er|\bmin[ \t]+navn[ \t]+er)\b[ \t]*:?[ \t]*"
    rf"((?:{_NAME_ANYCASE})(?:[ \t]+(?:{_NAME_ANYCASE})){{0,2}})"
)
# A sign-off, then a name that ends its line: "Regards,\nKari Nordmann", "mvh ola".
_SIGNOFF_NAME = re.compile(
    rf"(?:^|(?<=\n)|(?<=[.!?][ \t]))[ \t]*(?i:signed|\bsincerely|\bregards|\bcheers|\bthanks|\bthank[ \t]+you|"
    rf"\bbest|\bbr|\bmvh|\bhilsen|"
    rf"\bhälsningar|\bhälsning|\bmfg|\bgrüße|\bgruß|\bterveisin|\bcordialement|\bsaludos|\bsaluti|\bpozdrawiam)\b"
    rf"[ \t]*[,.!:-]?[ \t]*(?:\r?\n[ \t]*)?"
    rf"((?:{_NAME_ANYCASE})(?:[ \t]+(?:[{_LETTER}]\.?[ \t]+)?(?:{_NAME_ANYCASE})){{0,2}})[ \t]*[.!]?[ \t]*(?=\r?\n|$)"
)
# "follow up with Sigrid Nyström", "directed by Joakim Westgård": two or more capitalised words only.
_PREPOSITION_NAME = re.compile(
    rf"\b(?i:with|by|from|to|for|under|about|contact|ask)[ \t]+"
    rf"({_NAME}(?:[ \t]+(?:[{_UPPER}]\.?[ \t]+)?{_NAME}){{1,2}})"
)
_WEAK_NAME_CUE = re.compile(
    rf"(?:\b(?i:i'm|i[ \t]+am|this[ \t]+is|it's|it[ \t]+is|yours|dear|hi|hello|hey|hei|hej|hallo|name|named|"
    rf"calls?[ \t]+me|called|ask|asked|tell|told|said|says|thank|thanks)\b|"
    rf"\b(?i:mr|mrs|ms|miss|mx|dr|prof|herr|frau|fru|hr|monsieur|madame|señor|señora)\b\.?)[ \t]+"
    rf"({_NAME}(?:[ \t]+(?:[{_UPPER}]\.?[ \t]+)?{_NAME}){{0,2}})"
)
_LABELLED_NAME = re.compile(
    rf"(?im)^[ \t]*(?:full[ \t]+name|name|navn|namn|nimi|nom|nombre|nome|customer|kunde|kund|contact|"
    rf"from|fra|från|von|sender|recipient|mottaker|mottagare)[ \t]*:[ \t]*"
    rf"((?:{_NAME_ANYCASE})(?:[ \t]+(?:[{_UPPER}]\.?[ \t]+)?(?:{_NAME_ANYCASE})){{0,3}})[ \t]*$"
)
# A quoted email's attribution: "Øyvind Bjørnstad wrote:", "Kari Nordmann <kari@x.no> skrev:".
_WROTE_NAME = re.compile(
    rf"({_NAME}(?:[ \t]+(?:[{_UPPER}]\.?[ \t]+)?{_NAME}){{1,2}})[ \t]*(?:<[^<>\n]{{3,100}}>[ \t]*)?"
    rf"(?i:wrote|skrev|schrieb|a[ \t]+écrit|escribió|kirjoitti)[ \t]*:"
)
_GREETING_PREFIX = re.compile(
    r"(?i)^(?:(?:hi|hello|hey|dear|hei|hej|hallo|moi|thanks|thank you|regards|cheers|mr|mrs|ms|miss|mx|dr|prof|"
    r"herr|frau|fru|sir|madam)\b\.?[ \t,]*)+"
)


_STREET_WORDS = frozenset(
    """street streets st road roads rd avenue avenues ave lane lanes ln drive drives dr boulevard blvd way ways
    court courts ct place pl terrace crescent close square squares sq parkway pkwy highway hwy row walk
    gardens mews circle trail parade alley plaza grove park parks turnpike flat flats hill hills isle
    lodge union pass view ridge cove coves forge forges cape estates junction loop port ports rapids
    shoal shores spring springs station summit throughway trace track tunnel valley viaduct villages vista
    wells gate gata gatan vei veien vej gade straße strasse weg platz""".split()
)
_LABEL_WORDS = frozenset(
    """phone email e-mail mail address website web date time name note notes subject re fw fwd to from cc bcc
    order ref tel fax mobile desk office zip iban card total price sum answer question q a bot user customer
    agent support assistant system admin staff me you ps update edit warning error status tracking step
    example hint tip summary title description comment reason result message info personal contact details
    born age gender company job position location city country state street postcode important urgent
    attention edited source update reply response input output prompt instructions rules""".split()
)
_SPEAKER_LABEL = re.compile(rf"(?m)^[ \t]*([{_UPPER}][{_LOWER}]{{1,20}}):[ \t]+\S")


def _is_common_or_title(word: str) -> bool:
    lower = word.lower().strip(".,;:!?'’")
    return lower in COMMON_WORDS or lower in TITLES


def _clean_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Trim greetings/titles and possessives off a name span; None when nothing name-like is left."""
    value = text[start:end]
    lead = _GREETING_PREFIX.match(value)
    if lead:
        start += lead.end()
    value = text[start:end]
    for suffix in ("'s", "’s", "'", "’"):
        if value.endswith(suffix):
            end -= len(suffix)
            break
    while end > start and not text[end - 1].isalnum():
        end -= 1
    while start < end and not text[start].isalnum():
        start += 1
    # Drop common words and titles at either end ("Customer Kari Nordmann", "Ola Hansen Thanks").
    words = list(re.finditer(r"\S+", text[start:end]))
    keep = [i for i, w in enumerate(words) if not _is_common_or_title(w.group(0))]
    if not keep:
        return None
    start, end = start + words[keep[0]].start(), start + words[keep[-1]].end()
    while end > start and not text[end - 1].isalnum():
        end -= 1
    value = text[start:end]
    if not value or any(ch.isdigit() or ch in "@/\\_=<>{}[]|#" for ch in value) or "://" in value:
        return None
    if len(value) <= 3 and value.isupper():
        return None
    return start, end


def _sentence_start(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t\"'“«(":
        i -= 1
    return i < 0 or text[i] in ".!?\n:;"


class PersonRecognizer(_Recognizer):
    """PERSON from the spaCy NER entities (filtered) and from cue phrases (which need no model)."""

    ENTITIES = ("PERSON", "ADDRESS")

    def __init__(self) -> None:
        super().__init__(name="SafeDeskPersonRecognizer")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        out = []
        for ent in getattr(nlp_artifacts, "entities", None) or ():
            if ent.label_ != "PERSON":
                continue
            span = _clean_name(text, ent.start_char, ent.end_char)
            if span is None:
                continue
            start, end = span
            if start > 0 and text[start - 1] in "'’":
                continue  # "Bulgakov's Cautionary": the possessive's tail, not a name
            last = text[start:end].split()[-1].lower().strip(".")
            if last in _STREET_WORDS:
                # "Lahtinen Road", "Kishiev Squares": a street named after someone is an address.
                out.append(_result(self, "ADDRESS", start, end, 0.6, "street name (NER)"))
                continue
            single = " " not in text[start:end].strip()
            # A single capitalised word opening a sentence is often not a name ("Regarding", "Sorry").
            if single and _sentence_start(text, start) and text[start:end].lower() in COMMON_WORDS:
                continue
            out.append(_result(self, "PERSON", start, end, 0.85, "person name (NER)"))
        cues = (
            (_STRONG_NAME_CUE, 0.8),
            (_SIGNOFF_NAME, 0.7),
            (_LABELLED_NAME, 0.8),
            (_WEAK_NAME_CUE, 0.6),
            (_PREPOSITION_NAME, 0.55),
            (_WROTE_NAME, 0.75),
        )
        for pattern, score in cues:
            for m in pattern.finditer(text):
                span = _clean_name(text, m.start(1), m.end(1))
                if span is None:
                    continue
                start, end = span
                # Drop trailing common words a loose cue swallowed ("my name is Kari and ...").
                words = list(re.finditer(r"\S+", text[start:end]))
                keep = [w for w in words if w.group(0).lower().strip(".,") not in COMMON_WORDS]
                if not keep:
                    continue
                first_common = next((w for w in words if w.group(0).lower().strip(".,") in COMMON_WORDS), None)
                if first_common is not None:
                    end = start + first_common.start()
                    while end > start and not text[end - 1].isalnum():
                        end -= 1
                if end > start:
                    out.append(_result(self, "PERSON", start, end, score, "name after a cue phrase"))
        for m in _SPEAKER_LABEL.finditer(text):
            if m.group(1).lower() not in COMMON_WORDS and m.group(1).lower() not in _LABEL_WORDS:
                out.append(_result(self, "PERSON", m.start(1), m.end(1), 0.55, "speaker name in a transcript"))
        return out


# ------------------------------------------------------------------------------------------------
# Email addresses written to dodge filters: "kari (at) example (dot) com"

_OBFUSCATED_EMAIL = re.compile(
    r"(?i)\b[\w.+-]{1,64}[ \t]*(?:\(at\)|\[at\]|\{at\}|<at>|[ \t]at[ \t])[ \t]*[\w-]{1,63}"
    r"(?:[ \t]*(?:\(dot\)|\[dot\]|\{dot\}|<dot>|\.|[ \t]dot[ \t])[ \t]*[\w-]{1,63}){1,4}\b"
)
_OBFUSCATION_MARK = re.compile(r"(?i)\(at\)|\[at\]|\{at\}|<at>|\(dot\)|\[dot\]|\{dot\}|<dot>|[ \t]dot[ \t]")


class ObfuscatedEmailRecognizer(_Recognizer):
    ENTITIES = ("EMAIL_ADDRESS",)

    def __init__(self) -> None:
        super().__init__(name="SafeDeskObfuscatedEmailRecognizer")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [
            _result(self, "EMAIL_ADDRESS", m.start(), m.end(), 0.7, "spelled-out email address")
            for m in _OBFUSCATED_EMAIL.finditer(text)
            if _OBFUSCATION_MARK.search(m.group(0))
        ]
