"""Commitments guard: promises only a person may make are held; policy statements pass."""

from __future__ import annotations

import time

import pytest

from safedesk.domain import Access, KnowledgeChunk, RetrievedChunk, Stage
from safedesk.errors import ConfigError
from safedesk.guards.base import GuardContext, build_guard
from safedesk.guards.commitments import CommitmentsGuard
from safedesk.policy import DraftAction, review_draft

RETURNS = KnowledgeChunk(
    "returns",
    "Returns",
    "Refunds",
    "Returns are accepted within 30 days. Refunds are issued to the original payment method within 5 business "
    "days. We refund the purchase within 14 days after we have received and checked your return. If a product is "
    "faulty, send us photos and we will repair, replace or refund the product. We cannot promise exact dates for "
    "new deliveries.",
    "returns.md",
    Access.PUBLIC,
)
STUDENTS = KnowledgeChunk(
    "students",
    "FAQ",
    "Student discount",
    "Students get 10% off full-price products in the shop when they show a valid student card.",
    "faq.md",
    Access.PUBLIC,
)
PRICES = KnowledgeChunk(
    "prices",
    "FAQ",
    "Price match",
    "We match the price of another Norwegian shop if the same product is in stock there at a lower price.",
    "faq.md",
    Access.PUBLIC,
)


@pytest.fixture(scope="module")
def guard() -> CommitmentsGuard:
    built = build_guard("commitments", "commitments", {}, None)
    assert isinstance(built, CommitmentsGuard)
    return built


def ctx(with_sources: bool = True) -> GuardContext:
    sources = tuple(RetrievedChunk(c, 0.9) for c in (RETURNS, STUDENTS, PRICES)) if with_sources else ()
    return GuardContext(conversation_id="t", stage=Stage.OUTBOUND, sources=sources)


HELD = [
    # refunds and returns outside policy
    ("I've refunded you 500 kr.", "refund"),
    ("I'll issue a full refund to your card today.", "refund"),
    ("You will get your money back by Friday.", "refund"),
    ("You'll receive a refund of 200 kr.", "refund"),
    ("Your refund has been approved.", "refund"),
    ("We'll refund the shipping as well.", "refund"),
    ("I can make an exception and accept your return after 45 days.", "refund"),
    ("No problem, you can still return it even though it's been 60 days.", "refund"),
    ("No worries, I have refunded you.", "refund"),
    # discounts and codes
    ("I'll give you 15% off your next order.", "discount"),
    ("Use code SUMMER2025 at checkout.", "discount"),
    ("Here is a discount code: WELCOME10", "discount"),
    ("You get 20% off your whole order today.", "discount"),
    ("I've applied a 10% discount to your order.", "discount"),
    # compensation
    ("As compensation, I've added a 200 NOK gift card to your account.", "compensation"),
    ("We'll send you a voucher for the trouble.", "compensation"),
    ("I will waive the shipping fee for you.", "compensation"),
    ("To make it up to you, the next delivery is on the house.", "compensation"),
    # price matches
    ("We'll match that price for you.", "price_match"),
    ("I can lower the price to 1,999 NOK.", "price_match"),
    ("Price match approved.", "price_match"),
    # guarantees
    ("Your jacket is guaranteed to arrive tomorrow.", "guarantee"),
    ("I promise it will be there by Friday.", "guarantee"),
    ("It will definitely arrive before Christmas.", "guarantee"),
    ("Your order will be delivered by Thursday.", "guarantee"),
    # legal statements and admissions
    ("We are liable for the damage to your tent.", "legal"),
    ("This is illegal.", "legal"),
    ("It's entirely our fault.", "legal"),
    ("You are entitled to compensation.", "legal"),
    ("Under the Consumer Purchases Act you can claim damages.", "legal"),
    ("You should sue us.", "legal"),
    # actions the assistant cannot take
    ("I have reset your password.", "action_claim"),
    ("I've cancelled your order and updated your address.", "action_claim"),
    ("Your order has been cancelled.", "action_claim"),
    ("Your payment card is now updated.", "action_claim"),
    ("I'll change the delivery address now.", "action_claim"),
    ("Done! I've sent you a new confirmation email.", "action_claim"),
    # Found when the demo's returns page started to say "warranty": the ungrounded check let this through.
    ("Every product has a lifetime warranty against all damage.", "guarantee"),
    ("Our warranty covers all damage, forever.", "guarantee"),
    ("Alle produkter har livstidsgaranti.", "guarantee"),
    # Norwegian, Swedish, German
    ("Jeg har refundert beløpet.", "refund"),
    ("Du får pengene tilbake i morgen.", "refund"),
    ("Jeg gir deg 10 % rabatt på neste bestilling.", "discount"),
    ("Pakken kommer garantert fram i morgen.", "guarantee"),
    ("Du har krav på erstatning.", "legal"),
    ("Jeg har tilbakestilt passordet ditt.", "action_claim"),
    ("Jag har avbokat din beställning.", "action_claim"),
    ("Du får pengarna tillbaka.", "refund"),
    ("Ich habe Ihre Bestellung storniert.", "action_claim"),
    ("Sie bekommen Ihr Geld zurück.", "refund"),
    ("Sie haben Anspruch auf Schadensersatz.", "legal"),
    # hiding tricks
    ("I\u200b've refund\u200bed you.", "refund"),
    ("I’ve   REFUNDED you!", "refund"),
    # a copied policy sentence with a promise attached is still a promise
    ("Returns are accepted within 30 days. I'll refund you right away.", "refund"),
]


@pytest.mark.parametrize(("draft", "label"), HELD, ids=[d[:40] for d, _ in HELD])
def test_commitments_are_held(guard: CommitmentsGuard, draft: str, label: str) -> None:
    for with_sources in (True, False):
        findings = guard.check(draft, ctx(with_sources))
        assert label in {f.label for f in findings}, (with_sources, findings)
        assert all(f.kind == "commitment" for f in findings)
        assert review_draft(findings).action is DraftAction.HOLD


POLICY = [
    # copied from public knowledge: describes policy, promises nothing to this customer
    ("Returns are accepted within 30 days.", True),
    ("Refunds are issued to the original payment method within 5 business days.", True),
    ("We refund the purchase within 14 days after we have received and checked your return.", True),
    ("If a product is faulty, send us photos and we will repair, replace or refund the product.", True),
    ("We cannot promise exact dates for new deliveries.", True),
    ("We match the price of another Norwegian shop if the same product is in stock there at a lower price.", True),
    # restating a published discount to the customer
    ("You get 10% off full-price products in the shop with a valid student card.", True),
    # negations and refusals
    ("I can't refund you, but a member of staff can help.", False),
    ("I'm not able to cancel orders in this chat.", False),
    ("We can't guarantee delivery dates.", False),
    ("I cannot promise anything about that.", False),
    ("I have not changed anything on your account.", False),
    # ordinary answers
    ("You can return unused products within 30 days.", False),
    ("Delivery in Norway takes 2-4 business days.", False),
    ("Our customer service team answers chat, email and phone on weekdays.", False),
    ("Show the QR code at a pickup point.", False),
    ("We will email you when the product is back in stock.", False),
    ("The warranty on boots is up to 5 years if a product is faulty.", False),
    ("I can help you with questions about shipping and returns.", False),
    ("Would you like me to pass you to a member of staff?", False),
    ("", False),
    ("   ", False),
]


@pytest.mark.parametrize(("draft", "needs_sources"), POLICY, ids=[d[:40] or "empty" for d, _ in POLICY])
def test_policy_statements_pass(guard: CommitmentsGuard, draft: str, needs_sources: bool) -> None:
    assert guard.check(draft, ctx(True)) == []
    if not needs_sources:
        assert guard.check(draft, ctx(False)) == []


def test_reason_quotes_the_promise_but_not_a_code(guard: CommitmentsGuard) -> None:
    [finding] = guard.check("Use code VINTERLYS30 at checkout.", ctx())
    assert "VINTERLYS30" not in finding.reason
    [finding] = guard.check("I'll refund you today.", ctx())
    assert "refund" in finding.reason


def test_very_long_draft_is_held_quickly(guard: CommitmentsGuard) -> None:
    draft = "Delivery takes 2-4 business days. " * 3000
    started = time.perf_counter()
    findings = guard.check(draft, ctx())
    assert time.perf_counter() - started < 1.0
    assert [f.label for f in findings] == ["too_long"]
    assert review_draft(findings).action is DraftAction.HOLD


@pytest.mark.parametrize("unit", ["1", "1 ", "1.", "I'll ", "you will get ", "we have ", "\u200b"])
def test_pathological_input_at_the_limit_finishes(guard: CommitmentsGuard, unit: str) -> None:
    started = time.perf_counter()
    guard.check((unit * 20_000)[:20_000], ctx())
    assert time.perf_counter() - started < 5.0


def test_options() -> None:
    assert build_guard("commitments", "c", {"max_chars": 100}, None).stage is Stage.OUTBOUND
    with pytest.raises(ConfigError):
        build_guard("commitments", "c", {"nonsense": True}, None)
