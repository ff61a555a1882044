"""The staff scam second opinion: realistic messages -> verdict, hostile input, the `scam` JSON contract."""

from __future__ import annotations

import json
import time

import pytest

from safedesk.datasets import has_shared_data
from safedesk.errors import InputError
from safedesk.staff_tools.scam import (
    WEIGHTS,
    ScamInputError,
    assess,
    combine,
    scam_line,
    verdict_for,
)

OWN = ("nordlys-outdoor.no",)
SAFE, SUSPICIOUS, DANGEROUS = "safe", "suspicious", "dangerous"

# (case name, pasted text, expected verdict, a rule that must fire or None)
CASES: list[tuple[str, str, str, str | None]] = [
    # ---- scams ---------------------------------------------------------------------------------
    (
        "bank details changed (invoice fraud)",
        "From: Anna Berg <anna.berg@fjellstoff.no>\nSubject: Invoice 2291 - new bank details\n\n"
        "Hi,\nPlease note that our bank details have changed. Kindly pay invoice 2291 (NOK 48 200) to our new "
        "account IBAN NO93 8601 1117 947 from today.\n\nBest regards, Anna",
        DANGEROUS,  # a bank change and a request to pay the new account (was only suspicious)
        "payment_redirect",
    ),
    (
        "bank details changed, without have/has",
        "Hi, this is Nordlys finance. Our bank details changed, pay invoice 2231 to IBAN NO9386011117947 today.",
        SUSPICIOUS,
        "payment_redirect",
    ),
    (
        "a customer's own details changed (not a scam)",
        "My payment details changed after I moved, can you update my address on the order?",
        SAFE,
        None,
    ),
    ("a notification, not a redirect", "Your payment details updated successfully.", SAFE, None),
    ("a question about someone's details", "Have your bank details changed? Please let us know.", SAFE, None),
    ("someone else's details", "My wife's bank details changed last month, is that a problem?", SAFE, None),
    (
        "bank details changed + reply-to elsewhere + urgency",
        "From: Anna Berg <anna.berg@fjellstoff.no>\nReply-To: anna.berg.finance@outlook.com\n"
        "Subject: URGENT payment\n\nOur old account is under audit, so do not pay to the old account. Transfer "
        "the outstanding amount to our new bank account today, within 24 hours, to avoid late fees.",
        DANGEROUS,
        "reply_to_mismatch",
    ),
    (
        "fake Posten customs SMS (Norwegian)",
        "Posten: Pakken din er holdt tilbake. Betal tollgebyr 29 kr innen 24 timer: https://posten-no.top/betal",
        DANGEROUS,
        "delivery_fee",
    ),
    (
        "fake DHL redelivery SMS with shortener",
        "DHL: Your parcel could not be delivered. Pay the redelivery fee of 2.99 EUR here: https://bit.ly/3Dh1x",
        DANGEROUS,
        "shortener",
    ),
    (
        "fake PostNord address update (lookalike domain)",
        "PostNord: We could not deliver your package due to an incomplete address. Update it at "
        "https://postnrod-delivery.com/se",
        DANGEROUS,
        "lookalike_domain",
    ),
    (
        "OTP request (account takeover)",
        "Hi! I accidentally put your number in when logging in. You should get a 6-digit code by SMS now, "
        "could you send me the code you received? Thanks!",
        DANGEROUS,
        "code_request",
    ),
    (
        "OTP request, Norwegian",
        "Hei, det er fra Vipps kundeservice. Send meg koden du fikk på SMS så vi kan stoppe betalingen.",
        DANGEROUS,
        "code_request",
    ),
    (
        "gift card CEO request",
        "Hi Kari, are you at your desk? I need a quick favour. Buy 5 Google Play gift cards of 1000 kr each and "
        "send me pictures of the codes. Keep this confidential. Ole (CEO)",
        DANGEROUS,
        "gift_cards",
    ),
    (
        "PayPal display name from a look-alike domain",
        'From: "PayPal" <service@paypa1-secure.ru>\nSubject: Your account has been limited\n\n'
        "We noticed unusual activity. Your account has been limited. Verify your account within 24 hours: "
        "http://paypal.com.account-verify.top/login",
        DANGEROUS,
        "display_mismatch",
    ),
    (
        "look-alike of the shop's own domain",
        "From: Nordlys Outdoor <faktura@nordlys-0utdoor.no>\nSubject: Invoice\n\nPlease review the attached "
        "invoice and confirm your payment details at https://nordlys-0utdoor.no/pay",
        DANGEROUS,
        "own_lookalike",
    ),
    (
        "punycode PayPal link",
        "Your PayPal payment was declined. Update your payment details here: https://xn--pypal-4ve.com/update",
        DANGEROUS,
        "lookalike_domain",
    ),
    (
        "raw IP login link and suspended account",
        "Dear customer, your mailbox has been suspended due to unusual sign-in activity. Log in to restore "
        "access immediately: http://185.23.44.9/owa/login.php",
        DANGEROUS,
        "ip_link",
    ),
    (
        "executable behind a document name",
        "Hello, please see the attached order confirmation and sign it today.\nAttachment: Order_5521.pdf.exe",
        DANGEROUS,
        "double_extension",
    ),
    (
        "link that downloads a program",
        "Hi, the new price list is too big for email. Download it here: "
        "https://files-share.example/download/PriceList_2025.exe",
        SUSPICIOUS,
        "executable_attachment",
    ),
    (
        "macro document",
        "Hi, here is the updated price list for spring. Open Pricelist_2025.xlsm and click Enable Content to "
        "see the prices.",
        SUSPICIOUS,
        "macro_attachment",
    ),
    (
        "marketplace buyer with shipping agent and WhatsApp",
        "Hello, I am interested in buying 20 of your tents. My shipping agent will collect them. Please "
        "contact me on WhatsApp, +1 555 0100 200.",
        SUSPICIOUS,
        "overpayment",
    ),
    (
        "overpayment and Western Union refund",
        "I paid you too much by mistake. Please refund the difference of 4 000 kr urgently by Western Union "
        "to my agent in Lagos.",
        DANGEROUS,
        "overpayment",
    ),
    (
        "crypto payment of an invoice",
        "Due to banking issues we now accept payment only in crypto. Please send the BTC to this wallet "
        "address: bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh",
        SUSPICIOUS,
        "crypto",
    ),
    (
        "prize with deadline and short link",
        "Congratulations! You have won an iPhone 16 in our customer draw. Claim your prize within 24 hours: "
        "https://tinyurl.com/win-iphone16",
        DANGEROUS,
        "prize",
    ),
    (
        "Microsoft mailbox full, link elsewhere",
        'From: "Microsoft 365" <no-reply@mail-office365-support.com>\nSubject: Mailbox storage full\n\n'
        "Your mailbox is almost full. Your account will be suspended within 48 hours. Confirm your account "
        "here: https://office365-storage-upgrade.com",
        DANGEROUS,
        "brand_in_domain",
    ),
    (
        "display name shows another address",
        'From: "kundeservice@nordlys-outdoor.no" <nordlys.kundeservice@gmail.com>\nSubject: Refund\n\n'
        "Hi, please confirm your card details so we can send the refund.",
        DANGEROUS,
        "display_mismatch",
    ),
    (
        "Cyrillic letters hidden in Latin words",
        "Yоur ассоunt hаs bееn suspеndеd. Сlick hеre tо rеstоrе accеss.",
        DANGEROUS,
        "obfuscation",
    ),
    (
        "remote access support scam",
        "This is Microsoft support. Your computer is infected. Please download AnyDesk and tell me the "
        "AnyDesk ID so we can fix it immediately.",
        SUSPICIOUS,
        "remote_access",
    ),
    (
        "bank BankID renewal with a fake domain",
        "DNB: Your BankID expires today. Renew it within 24 hours at https://dnb-bankid-fornyelse.com to avoid "
        "your account being blocked.",
        DANGEROUS,
        "brand_in_domain",
    ),
    (
        "SMS prize call-back (premium rate)",
        "URGENT! Your mobile number has been awarded a £2000 prize. To claim call 09061701461 now. 150ppm",
        DANGEROUS,
        "premium_rate",
    ),
    (
        "failed SPF/DMARC and a password request",
        "Authentication-Results: mx.example.net; spf=fail smtp.mailfrom=nordea.com; dmarc=fail\n"
        'From: "Nordea" <security@nordea.com>\nSubject: Security check\n\n'
        "Reply with your online banking password to complete the security check.",
        DANGEROUS,
        "auth_fail",
    ),
    (
        '"hi mum" new number',
        "Hi mum, I dropped my phone in the toilet, this is my new number. Can you pay a bill for me urgently? "
        "I'll pay you back tomorrow.",
        SUSPICIOUS,
        "new_number",
    ),
    (
        "fake Vipps payment with BankID login (Norwegian)",
        "Vipps: Du har mottatt 2 500 kr. Logg inn med BankID for å motta pengene: https://vipps-mottak.com",
        DANGEROUS,
        "brand_in_domain",
    ),
    (
        "CEO fraud from the shop's domain inside another domain",
        "From: Ole Hansen <ole.hansen@nordlys-outdoor.no.mail-secure.com>\nSubject: Payment\n\nKari, I need you "
        "to make an urgent transfer of 95 000 kr today. I'm in a meeting and can't talk. Details follow.",
        DANGEROUS,
        "own_lookalike",
    ),
    (
        "fake purchase with call-back number",
        "Amazon: A purchase of iPhone 15 for 1 299 USD was made on your account. If this wasn't you, call "
        "+1 800 555 0199 immediately.",
        SUSPICIOUS,
        "account_threat",
    ),
    (
        "unbranded parcel fee",
        "Your parcel is waiting! We need a small fee of 1.99 EUR for customs. https://parcel-track-eu.xyz",
        SUSPICIOUS,
        "delivery_fee",
    ),
    (
        "HTML link that shows PayPal but goes to an IP",
        '<p>Your PayPal account needs attention.</p><p><a href="http://198.51.100.7/x"><span>'
        "https://www.paypal.com/login</span></a></p>",
        DANGEROUS,
        "href_mismatch",
    ),
    (
        "real customs notice looks like the scam (check in the app)",
        "PostNord: Your parcel from the UK has import VAT and a customs fee of 245 kr. Pay in the PostNord app "
        "before we can deliver it.",
        SUSPICIOUS,
        "delivery_fee",
    ),
    # ---- normal messages --------------------------------------------------------------------------
    (
        "order confirmation with shipping fee and tracking",
        "Thank you for your order #10234 at Nordlys Outdoor! Total 1 299 kr including shipping fee 49 kr. "
        "Track your parcel with PostNord: https://tracking.postnord.com/no/?id=AB123456789SE",
        SAFE,
        None,
    ),
    (
        "normal customer question",
        "Hello, do you have the Fjell jacket in size M? I ordered a size L last week (order 5521) and it is "
        "too big. Can I exchange it?",
        SAFE,
        None,
    ),
    (
        "newsletter with a normal link",
        "Nordlys Outdoor newsletter: Spring sale! 20% off all tents this week only. See the collection at "
        "https://nordlys-outdoor.no/spring - free shipping over 800 kr. Unsubscribe: "
        "https://nordlys-outdoor.no/unsubscribe",
        SAFE,
        None,
    ),
    (
        "real one-time code message",
        "Your Nordlys Outdoor verification code is 482913. Never share this code with anyone, not even us.",
        SAFE,
        None,
    ),
    (
        "warning that mentions the code trick",
        "Reminder from your bank: we will never ask you to send us the code you received by SMS.",
        SAFE,
        None,
    ),
    (
        "real PostNord pickup notice",
        "PostNord: Your parcel from Nordlys Outdoor is ready for pickup at Coop Extra Majorstuen. Collect it "
        "by 12 May. Track it: https://tracking.postnord.com/no/?id=AB123456789SE",
        SAFE,
        None,
    ),
    (
        "supplier invoice with usual payment",
        "From: Anna Berg <anna.berg@fjellstoff.no>\nSubject: Invoice 2291\n\nHi, please find attached invoice "
        "2291 for the March delivery (Invoice_2291.pdf). Payment terms 30 days, to the usual account.",
        SAFE,
        None,
    ),
    (
        "customer asks about gift cards",
        "Hi! Can I pay with a gift card in your web shop, or only in the store? And do you sell gift cards?",
        SAFE,
        None,
    ),
    (
        "customer asks for the discount code",
        "Could you send me the discount code from your newsletter? It did not arrive.",
        SAFE,
        None,
    ),
    (
        "customer prefers WhatsApp for photos",
        "The sole of my boot came off after a week. Can I send you photos on WhatsApp? It's easier for me.",
        SAFE,
        None,
    ),
    (
        "colleague in a meeting",
        "I'm in a meeting until 3, can you check how many Tind 2 tents we have in stock? Thanks!",
        SAFE,
        None,
    ),
    (
        "customer: parcel missing",
        "My parcel still hasn't arrived and the tracking says delivery failed. Can you help?",
        SAFE,
        None,
    ),
    (
        "customer: card blocked after fraud",
        "Can I get a refund to a different card? My old card was blocked after fraud.",
        SAFE,
        None,
    ),
    (
        "customer won a real giveaway",
        "Hi, I won a voucher in your Instagram giveaway last week, how do I claim my prize?",
        SAFE,
        None,
    ),
    (
        "overdue invoice to the usual account",
        "Reminder: invoice 2291 is overdue. Please pay 4 500 kr to our usual account 1234.56.78901 within 7 days.",
        SAFE,
        None,
    ),
    (
        "real DHL delivery notice",
        "DHL Express: Your shipment 1234567890 will be delivered today between 10:00 and 14:00. Track: "
        "https://www.dhl.com/no-en/home/tracking.html?tracking-id=1234567890",
        SAFE,
        None,
    ),
    (
        "shop's own account confirmation",
        "Your account has been created. Confirm your email address here: https://nordlys-outdoor.no/confirm?t=abc",
        SAFE,
        None,
    ),
    (
        "Norwegian customer question",
        "Hei! Jeg har bestilt en jakke (ordre 8812), men pakken er ikke kommet. Kan dere sjekke sporingen?",
        SAFE,
        None,
    ),
    (
        "HTML newsletter whose links match their text",
        '<p>New tents are in!</p><a href="https://nordlys-outdoor.no/tents">nordlys-outdoor.no/tents</a> '
        '<a href="https://www.instagram.com/nordlys">Follow us on Instagram</a>',
        SAFE,
        None,
    ),
    (
        "real password reset",
        "From: Shopify <mailer@shopify.com>\nSubject: Reset your password\n\nSomeone asked to reset the "
        "password for your store. If it was you, use this link: https://accounts.shopify.com/reset/abc123. "
        "If not, you can ignore this email.",
        SAFE,
        None,
    ),
]


@pytest.mark.parametrize(("name", "text", "expected", "rule"), CASES, ids=[c[0] for c in CASES])
def test_verdicts(name: str, text: str, expected: str, rule: str | None) -> None:
    result = assess(text, own_domains=OWN)
    assert result.verdict == expected, (result.risk, result.reasons)
    if rule:
        assert rule in {s.rule for s in result.signals}, result.reasons
    if expected == SAFE:
        assert result.risk < 0.3
    else:
        assert result.reasons and all(isinstance(r, str) and 0 < len(r) <= 200 for r in result.reasons)


def test_own_domain_only_counts_when_given() -> None:
    text = "Please confirm your order at https://nordlys-outdoor-shop.com/confirm"
    assert "own_lookalike" not in {s.rule for s in assess(text).signals}
    assert "own_lookalike" in {s.rule for s in assess(text, own_domains=OWN).signals}
    # the shop's own links are never look-alikes of it
    assert assess("See https://www.nordlys-outdoor.no/sale", own_domains=OWN).signals == ()


@pytest.mark.parametrize(
    ("host", "rule"),
    [
        ("https://paypal.com/signin", None),
        ("https://www.paypal.com/signin", None),
        ("https://paypa1.com/signin", "lookalike_domain"),
        ("https://rnicrosoft.com/", "lookalike_domain"),
        ("https://amazon-refunds.net/", "brand_in_domain"),
        ("https://dhlparcel-customs.info/", "brand_in_domain"),
        ("https://dhl.com.tracking-eu.net/", "brand_in_domain"),
        ("https://groups.google.com/", None),
        ("https://startups.no/", None),
        ("https://www.dhl.de/de/privatkunden.html", None),
        ("https://bit.ly/abc", "shortener"),
        ("https://paypal.com@198.51.100.7/login", "ip_link"),
    ],
)
def test_link_rules(host: str, rule: str | None) -> None:
    rules = {s.rule for s in assess(f"Please see {host} for details.").signals}
    if rule is None:
        assert not rules, rules
    else:
        assert rule in rules, rules


# ---- hostile input --------------------------------------------------------------------------------

HOSTILE = [
    "",
    " ",
    "\n\n\n",
    "a" * 100_000,
    ("you have won! " * 8_000)[:100_000],
    "https://" + "a." * 40_000 + "com",
    "From: " + '"' * 5_000 + "<" * 5_000,
    "\ud800\udfff lone \udc00 surrogates \ud83d",
    bytes(range(256)).decode("latin-1") * 40,
    "\x00\x01\x02\x1b[31m\x7f binary \u202e\u200b\ufeff junk",
    "".join(chr(c) for c in range(0x300, 0x3000, 7)),
    "<a href='http://evil.example'>" * 2_000,
    "send me the code " * 5_000,
    "x@" * 20_000,
    "xn--" * 10_000 + ".com",
]


@pytest.mark.parametrize("text", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_input_gives_valid_output(text: str) -> None:
    start = time.perf_counter()
    out = scam_line({"id": "h", "text": text})
    assert time.perf_counter() - start < 5.0
    _check_contract(out)
    json.dumps(out, ensure_ascii=False).encode("utf-8")  # writable as UTF-8 (no lone surrogates)


def test_empty_text_is_safe() -> None:
    assert scam_line({"id": "e", "text": ""}) == {"id": "e", "risk": 0.0, "verdict": "safe", "reasons": []}


# ---- the JSON contract ----------------------------------------------------------------------------


def _check_contract(out: dict[str, object]) -> None:
    assert set(out) == {"id", "risk", "verdict", "reasons"}
    assert isinstance(out["id"], str)
    assert isinstance(out["risk"], float) and 0.0 <= out["risk"] <= 1.0
    assert out["verdict"] in (SAFE, SUSPICIOUS, DANGEROUS)
    assert out["verdict"] == verdict_for(out["risk"])
    assert isinstance(out["reasons"], list) and all(isinstance(r, str) for r in out["reasons"])


@pytest.mark.parametrize("text", [c[1] for c in CASES[:5]] + ["hello"])
def test_scam_line_contract(text: str) -> None:
    out = scam_line({"id": "m1", "text": text, "extra": "ignored"})
    _check_contract(out)
    assert out["id"] == "m1"
    assert json.loads(json.dumps(out)) == out


def test_scam_line_passes_own_domains() -> None:
    item = {"id": "o", "text": "Log in at https://nordlys-outdoor.com/login"}
    assert scam_line(item)["verdict"] == SAFE
    assert scam_line(item, own_domains=OWN)["verdict"] != SAFE


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"id": "1"}, 'missing field "text"'),
        ({"id": "1", "text": None}, '"text" must be a string, not NoneType'),
        ({"id": "1", "text": 42}, '"text" must be a string, not int'),
        ({"id": "1", "text": b"bytes"}, '"text" must be a string, not bytes'),
        ({"id": "1", "text": ["a"]}, '"text" must be a string, not list'),
        ({"text": "hi"}, 'missing field "id"'),
        ({"id": 7, "text": "hi"}, '"id" must be a string'),
        ("not an object", "expected an object"),
        (None, "expected an object"),
    ],
)
def test_bad_input_raises_value_error(item: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        scam_line(item)  # type: ignore[arg-type]
    assert isinstance(info.value, ScamInputError) and isinstance(info.value, InputError)  # CLI: exit 2


def test_assess_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="text must be a string"):
        assess(None)  # type: ignore[arg-type]


# ---- scoring ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("risk", "verdict"),
    [(0.0, SAFE), (0.299, SAFE), (0.3, SUSPICIOUS), (0.699, SUSPICIOUS), (0.7, DANGEROUS), (1.0, DANGEROUS)],
)
def test_thresholds(risk: float, verdict: str) -> None:
    assert verdict_for(risk) == verdict


def test_noisy_or() -> None:
    assert combine([]) == 0.0
    assert combine([0.5]) == 0.5
    assert combine([0.5, 0.5]) == pytest.approx(0.75)
    assert combine([2.0, -1.0]) == 1.0
    assert all(0.0 < w < 1.0 for w in WEIGHTS.values())


def test_reasons_are_ordered_strongest_first() -> None:
    result = assess(CASES[8][1])
    weights = [s.weight for s in result.signals]
    assert weights == sorted(weights, reverse=True)
    assert result.reasons == [s.reason for s in result.signals]


def test_latency_of_a_typical_message() -> None:
    text = CASES[0][1]
    assess(text)
    start = time.perf_counter()
    for _ in range(50):
        assess(text, own_domains=OWN)
    assert (time.perf_counter() - start) / 50 < 0.02  # well under 20 ms per message


# ---- benchmark plumbing -------------------------------------------------------------------------------

needs_data = pytest.mark.skipif(not has_shared_data(), reason="../shared/data not found")


@needs_data
def test_sms_split_is_deterministic_and_disjoint() -> None:
    from safedesk.bench.scam import load_sms, split_of

    rows = load_sms()
    assert len(rows) == 5574
    assert {r.split for r in rows} == {"dev", "test"}
    dev = {r.text.casefold() for r in rows if r.split == "dev"}
    test = {r.text.casefold() for r in rows if r.split == "test"}
    assert not dev & test  # duplicates never straddle the split
    assert 0.4 < len([r for r in rows if r.split == "dev"]) / len(rows) < 0.6
    assert split_of("Ok lar... Joking wif u oni...") == split_of("ok lar...  joking wif u oni...")


@needs_data
def test_report_formats() -> None:
    from safedesk.bench.scam import evaluate_scam, format_scam_report

    report = evaluate_scam(splits=("dev",), examples=2, benign=False)
    dev = report["splits"]["dev"]
    assert dev["n"] == dev["n_spam"] + dev["n_ham"]
    assert 0 <= dev["flagged (verdict != safe)"]["false_flag_rate_ham"] <= 1
    text = format_scam_report(report)
    assert "== dev" in text and "precision" in text and "p50" in text


_PHISH_BODY = (
    "Dear customer, your account has been suspended. Verify your account within 24 hours or it will be closed: "
    "https://paypal-account-help.net/verify"
)


def _raw_email(headers: str, body_part: str) -> str:
    return headers.strip() + "\n\n" + body_part


@pytest.mark.parametrize(
    ("name", "text", "rule"),
    [
        (
            "base64 body",
            _raw_email(
                "From: PayPal <service@paypal-account-help.net>\nSubject: Notice\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
                __import__("base64").encodebytes(_PHISH_BODY.encode()).decode(),
            ),
            None,
        ),
        (
            "encoded sender name",
            _raw_email("From: =?UTF-8?B?UGF5UGFs?= <service@account-help.net>\nSubject: Notice", "Hello."),
            "display_mismatch",
        ),
        (
            "folded sender",
            _raw_email("From: PayPal\n <service@account-help.net>\nSubject: Notice", "Hello."),
            "display_mismatch",
        ),
    ],
)
def test_raw_emails_are_read_as_their_reader_sees_them(name: str, text: str, rule: str | None) -> None:
    """Found by a bug hunt: a base64 body, an encoded or folded sender name were never decoded, so pasted
    phishing came back "safe"."""
    result = assess(text)
    assert result.verdict != SAFE, (name, result.reasons)
    if rule:
        assert rule in {s.rule for s in result.signals}, result.reasons


def test_quoted_printable_soft_breaks_do_not_reach_the_reasons() -> None:
    text = _raw_email(
        "From: Shop <a@shop.example>\nSubject: x\nContent-Transfer-Encoding: quoted-printable",
        "Please verify your =\naccount now at https://paypal-account-help.net/verify",
    )
    assert not any("= " in r or "=\n" in r for r in assess(text).reasons)


@pytest.mark.parametrize(
    ("sender", "official"),
    [
        ("service@paypal.cm", False),
        ("kundeservice@dnb.co", False),
        ("info@nordea.com.ng", False),
        ("service@paypal.co.uk", True),
        ("service@amazon.com.au", True),
        ("noreply@dhl.no", True),
    ],
)
def test_typo_endings_are_not_the_brands_own(sender: str, official: bool) -> None:
    """Found by a bug hunt: any two-letter ending counted as the brand's own, so paypal.cm and dnb.co passed."""
    name = sender.split("@")[1].split(".")[0].upper()
    result = assess(f"From: {name} <{sender}>\nSubject: Your account\n\nPlease log in to check a message.")
    assert ("display_mismatch" in {s.rule for s in result.signals}) is not official, result.reasons


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "Hei, er du på kontoret? Jeg trenger en rask betaling til en ny leverandør i dag. Ikke si det til noen.",
            "authority_secrecy",
        ),
        (
            "Sehr geehrter Kunde, Ihr Konto wurde vorübergehend gesperrt. Bitte bestätigen Sie Ihre Daten.",
            "account_threat",
        ),
        (
            "Hello, please use the account below for all future payments: IBAN GB29 NWBK 6016 1331 9268 19.",
            "payment_redirect",
        ),
        ("All future invoices must now be paid to our account at Revolut.", "payment_redirect"),
        ("I need 5 Apple gift cards for a client, how many can you get today? Send me the codes.", "gift_cards"),
    ],
)
def test_scams_a_bug_hunt_found_missed(text: str, rule: str) -> None:
    """Found by a bug hunt: Norwegian CEO fraud, German 'Konto gesperrt' and 'use the account below for all future
    payments' were 'safe'."""
    result = assess(text)
    assert result.verdict != SAFE and rule in {s.rule for s in result.signals}, result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Hi, can I pay with two of your gift cards? How many can I use on one order?",
        "Do you sell gift cards? How many can I buy at once for my staff?",
    ],
)
def test_customers_asking_about_the_shops_gift_cards_are_safe(text: str) -> None:
    """Found by a bug hunt: a customer asking about paying with the shop's gift cards was 'suspicious'."""
    assert assess(text).verdict == SAFE, assess(text).reasons


@pytest.mark.parametrize(
    "text", ["From: " + "(" * 600 + "\n\nhi", "Reply-To: " + "(" * 600 + "\nFrom: a@b.example\n\nhi"]
)
def test_a_header_the_address_parser_cannot_take_is_no_crash(text: str) -> None:
    """Found by a review: "From: ((((..." raised RecursionError out of assess, which must never raise."""
    assert assess(text).verdict in (SAFE, "suspicious", "dangerous")


# ---- found by a new-user walkthrough, and from the dev half of the shop set (bench/data) ----------

WALKTHROUGH = [
    (
        "Hei, dette er Shimano Nordic. Vi har byttet bank. Betal faktura 88123 til ny konto NO12 3456 7890 123 i dag, "
        "ellers stopper leveransene. Se https://shimano-nordic.example-pay.com/faktura",
        {"payment_redirect", "pay_new_account", "urgency", "claimed_name_domain"},
    ),
    (
        "Hi, it is DNB. We need the one-time code you just got to stop a suspicious payment.",
        {"code_request"},
    ),
    ("Hej, vi har bytt bankkonto. Betala fakturan till det nya kontot idag.", {"payment_redirect", "pay_new_account"}),
    (
        "Hi, this is Shimano Nordic. Our bank details changed, pay invoice 88123 to the new account today.",
        {"payment_redirect", "pay_new_account", "urgency"},
    ),
]


@pytest.mark.parametrize(("text", "rules"), WALKTHROUGH, ids=["no-bank-change", "en-code", "sv-bank-change", "en"])
def test_walkthrough_scams_are_dangerous(text: str, rules: set[str]) -> None:
    """A walkthrough found these 'safe' (risk 0.0), and the English bank change only 'suspicious'."""
    result = assess(text)
    assert result.verdict == DANGEROUS and rules <= {s.rule for s in result.signals}, result.reasons


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "Dear customer, please be advised that we have switched banks. With immediate effect, all payments for "
            "open invoices should be made to our new account: IBAN GB33 BUKB 2020 1555 5555 55.",
            "pay_new_account",
        ),
        (
            "Hej, det här är Swedbanks säkerhetsavdelning. Vi har stoppat ett misstänkt köp. Uppge engångskoden du "
            "fick i SMS så att vi kan spärra kortet.",
            "code_request",
        ),
        (
            "Hallo, hier ist der Sicherheitsdienst der Sparkasse. Bitte nennen Sie uns den TAN-Code, den Sie gerade "
            "per SMS erhalten haben, damit wir die Abbuchung stoppen können.",
            "code_request",
        ),
        (
            "Hei, det er Økokrim. Kontoen din er misbrukt og vi må sikre pengene dine. Logg inn med BankID mens jeg er "
            "på telefonen og godkjenn overføringen til en sikker konto.",
            "safe_account",
        ),
        (
            "Hi, Fjellstoff AS here. Your statement for May is ready, download it from our customer area: "
            "https://fjellstoff.docs-share.com/statement",
            "claimed_name_domain",
        ),
        (
            "Hei, jeg sitter i møte. Kan du kjøpe 4 gavekort fra Google Play à 500 kr og sende meg kodene? Jeg betaler "
            "tilbake i kveld.",
            "gift_cards",
        ),
        (
            "Hej Mette, har du et øjeblik? Jeg har brug for at du overfører 62.000 kr til en ny leverandør i dag. Det "
            "skal holdes fortroligt. Hilsen Lars, direktør",
            "authority_secrecy",
        ),
        (
            "Din MitID skal opdateres inden 48 timer, ellers bliver den spærret. Opdater her: https://mitid-opdatering.com",
            "brand_in_domain",
        ),
    ],
)
def test_shop_set_dev_scams_are_flagged(text: str, rule: str) -> None:
    result = assess(text)
    assert result.verdict != SAFE and rule in {s.rule for s in result.signals}, result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Hello, Nordic Textiles here. We are moving our banking to SEB from 1 June. The new account details are in "
        "your supplier portal. Please do not act on account changes sent by email; call your account manager on the "
        "number in your contract to confirm before updating.",
        "Sehr geehrte Kundin, sehr geehrter Kunde, zum 1. Juli ändert sich unsere Bankverbindung. Die neuen Daten "
        "finden Sie in Ihrem Kundenportal. Bitte bestätigen Sie Änderungen vorab telefonisch unter der Ihnen "
        "bekannten Nummer.",
        "Hi, this is Nordlys Outdoor. Your order is at https://nordlys-outdoor.myshopify.com/orders/1",
        "DNB vil aldri be deg om å oppgi engangskoder, passord eller BankID-opplysninger på telefon, SMS eller e-post.",
        "Hei, årsoppgjøret er klart. Logg inn i Altinn med BankID og signer når det passer denne uken.",
    ],
)
def test_genuine_bank_changes_and_notices_stay_safe(text: str) -> None:
    assert assess(text).verdict == SAFE, assess(text).reasons


def test_a_language_without_rules_gets_a_not_sure_reason() -> None:
    """A 'safe' on text the phrase rules cannot read is not a confident one: a reason says so (weight 0)."""
    out = scam_line({"id": "it", "text": "Ciao, sono della banca. Abbiamo bisogno del codice che hai appena ricevuto."})
    _check_contract(out)
    assert out["verdict"] == SAFE and out["reasons"] and out["reasons"][0].startswith("Not sure")
    assert (
        scam_line({"id": "en", "text": "Can I exchange the jacket I bought last week for a size M?"})["reasons"] == []
    )


def test_a_run_of_capitals_is_linear() -> None:
    """The claimed-company-name pattern once split a run of capitals in every way: 'A' * 15,000 took 9 s."""
    start = time.perf_counter()
    assess("A" * 60_000)
    assert time.perf_counter() - start < 2.0
