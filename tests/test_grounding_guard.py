"""Grounding guard: every factual sentence must be supported by the public sources of the reply."""

from __future__ import annotations

import time

import pytest

from safedesk.domain import Access, KnowledgeChunk, RetrievedChunk, Stage
from safedesk.errors import ConfigError
from safedesk.guards.base import GuardContext, build_guard
from safedesk.guards.grounding import GroundingGuard
from safedesk.policy import DraftAction, review_draft


def chunk(cid: str, title: str, heading: str, text: str) -> KnowledgeChunk:
    return KnowledgeChunk(cid, title, heading, text, f"{cid}.md", Access.PUBLIC)


SOURCES = {
    "delivery": chunk(
        "delivery",
        "Shipping",
        "Delivery times",
        "Delivery in Norway takes 2-4 business days. Deliveries to Sweden, Denmark and Finland take 3-5 business "
        "days. Orders placed before 14:00 on a business day leave the warehouse the same day.",
    ),
    "prices": chunk(
        "prices",
        "Shipping",
        "Shipping prices",
        "- Norway: 79 NOK to a pickup point, 149 NOK for home delivery\n"
        "- Free shipping to a pickup point in Norway on orders over 999 NOK",
    ),
    "countries": chunk(
        "countries",
        "Shipping",
        "Countries we ship to",
        "We ship to Norway, Sweden, Denmark, Finland, Iceland and all EU countries. We do not ship to the United "
        "Kingdom, the United States or other countries outside Europe.",
    ),
    "hours": chunk(
        "hours",
        "Opening hours",
        "Shop opening hours",
        "- Monday to Friday: 10:00-19:00\n- Saturday: 10:00-17:00\n- Sunday: closed",
    ),
    "returns": chunk(
        "returns",
        "Returns",
        "Our 30-day return policy",
        "You can return unused products within 30 days of receiving them, for any reason. We refund the purchase "
        "within 14 days after we have received and checked your return.",
    ),
    "no-returns": chunk(
        "no-returns",
        "Returns",
        "Products that cannot be returned",
        "- Gas canisters and fuel\n- Socks and underwear with the hygiene seal broken",
    ),
    "gift": chunk(
        "gift",
        "FAQ",
        "Do you sell gift cards?",
        "Yes. Gift cards are available from 200 NOK to 5,000 NOK and are valid for 3 years. Holidays: 17 May.",
    ),
    # One sentence with a positive and a negative clause.
    "storage": chunk(
        "storage",
        "Winter storage for your bike",
        "",
        "We store bicycles over the winter for 990 NOK. Bring the bike in clean; we do not store bikes with flat "
        "batteries on e-bikes, please charge to 60 percent.",
    ),
}


@pytest.fixture(scope="module")
def guard() -> GroundingGuard:
    built = build_guard("grounding", "grounding", {}, None)
    assert isinstance(built, GroundingGuard)
    return built


def ctx(*names: str, customer: str = "") -> GuardContext:
    return GuardContext(
        conversation_id="t",
        stage=Stage.OUTBOUND,
        business_name="Nordlys Outdoor",
        sources=tuple(RetrievedChunk(SOURCES[n], 0.8) for n in names),
        customer_text=customer,
    )


UNGROUNDED = [
    # (case, sources, draft, label)
    ("invented delivery time", ("delivery", "prices"), "Delivery takes 30 minutes.", "number"),
    ("wrong range", ("delivery", "prices"), "Delivery in Norway takes 1-2 business days.", "number"),
    ("number from another topic", ("delivery", "returns"), "Delivery in Norway takes 14 days.", "number"),
    ("wrong price", ("delivery", "prices"), "Shipping to a pickup point in Norway costs 49 kr.", "number"),
    ("wrong threshold", ("prices",), "Free shipping on orders over 500 NOK.", "number"),
    ("wrong percentage", ("returns",), "You get 15% of the price back.", "number"),
    ("wrong time", ("delivery",), "Orders placed before 6 pm leave the warehouse the same day.", "number"),
    ("wrong duration", ("returns",), "You can return unused products within 60 days.", "number"),
    ("number word", ("returns",), "You can return unused products within ninety days.", "number"),
    ("wrong date", ("gift",), "Gift cards are valid until 24 December.", "number"),
    ("closed day", ("hours",), "The shop is open on Sundays from 12:00.", "number"),
    ("closed day, no time", ("hours",), "Yes, the shop is open on Sunday.", "number"),
    ("day no source mentions", ("delivery",), "Our warehouse ships on Saturdays too.", "number"),
    ("flipped negation", ("countries",), "We ship to the United States.", "unsupported_sentence"),
    # Found by a review: a country the source names only to deny it, added to a list the source gives.
    (
        "a denied name added to a list",
        ("countries",),
        "We ship to Norway, Sweden, Denmark and the United Kingdom.",
        "unsupported_sentence",
    ),
    ("invented place", ("countries", "delivery"), "Orders ship from our warehouse in Hamburg.", "unsupported_sentence"),
    ("invented brand", ("prices",), "You can pay with PayPal and Apple Pay.", "unsupported_sentence"),
    ("unsupported claim", ("delivery",), "We offer free next-day express delivery worldwide.", "unsupported_sentence"),
    ("hidden in boilerplate", ("delivery",), "Thanks! Delivery takes 30 minutes. Let me know!", "number"),
    ("zero-width digits", ("delivery",), "Delivery takes 3\u200b0 minutes.", "number"),
    ("negative clause flipped", ("storage",), "We store bikes with flat batteries on e-bikes.", "unsupported_sentence"),
    (
        "positive clause flipped",
        ("storage",),
        "Do not bring the bike in clean; we do not store bikes with flat batteries on e-bikes.",
        "unsupported_sentence",
    ),
]


@pytest.mark.parametrize(("sources", "draft", "label"), [u[1:] for u in UNGROUNDED], ids=[u[0] for u in UNGROUNDED])
def test_ungrounded_drafts_are_replaced(
    guard: GroundingGuard, sources: tuple[str, ...], draft: str, label: str
) -> None:
    findings = guard.check(draft, ctx(*sources))
    assert label in {f.label for f in findings}, findings
    assert all(f.kind == "ungrounded" for f in findings)
    assert review_draft(findings).action is DraftAction.REPLACE


GROUNDED = [
    ("verbatim", ("delivery",), "Delivery in Norway takes 2-4 business days.\n(Source: Shipping)"),
    ("en dash", ("delivery",), "Delivery in Norway takes 2–4 business days."),
    ("number words", ("delivery",), "Delivery in Norway takes two to four business days."),
    ("between", ("delivery",), "Delivery in Norway takes between 2 and 4 business days."),
    ("kr for NOK", ("prices",), "Home delivery in Norway costs 149 kr."),
    ("NOK prefix", ("prices",), "A pickup point in Norway costs NOK 79."),
    ("thousands separator", ("gift",), "Gift cards cost from 200 to 5000 kroner and are valid for three years."),
    ("2 pm", ("delivery",), "Orders placed before 2 pm on a business day leave the warehouse the same day."),
    ("weekday inside a range", ("hours",), "The shop is open on Wednesday from 10:00 to 19:00."),
    ("closed day stated", ("hours",), "The shop is closed on Sundays."),
    ("negation kept", ("countries",), "We do not ship to the United States."),
    ("list item copied", ("no-returns",), "Gas canisters and fuel"),
    ("negated paraphrase of a list", ("no-returns",), "You cannot return gas canisters or fuel."),
    ("date", ("gift",), "We are closed on 17 May."),
    (
        "two sources in one sentence",
        ("delivery", "prices"),
        "Delivery in Norway takes 2-4 business days, and a pickup point costs 79 NOK.",
    ),
    ("paraphrase", ("returns",), "You have 30 days to send back unused items, for any reason."),
    (
        "greeting and offer",
        ("delivery",),
        "Hi Kari! Delivery in Norway takes 2-4 business days. Would you like to talk to a person?",
    ),
    ("boilerplate only", (), "Hello! Is there anything else I can help you with?"),
    ("question", (), "Could you tell me your order number?"),
    ("empty", ("delivery",), ""),
    ("source lines", ("delivery",), "(Sources: Shipping; Returns)"),
    (
        "verbatim sentence with a positive and a negative clause",
        ("storage",),
        "Bring the bike in clean; we do not store bikes with flat batteries on e-bikes, please charge to 60 percent.",
    ),
    ("positive clause of a mixed sentence", ("storage",), "Bring the bike in clean."),
    ("negative clause of a mixed sentence", ("storage",), "We do not store bikes with flat batteries on e-bikes."),
    ("a denied name, denied", ("countries",), "We don't ship to the United Kingdom or the United States."),
    ("a list without the denied name", ("countries",), "We ship to Norway, Sweden and Denmark."),
    # Found by a second review: "other countries outside Europe" made Europe a denied name.
    ("a frame of the denial", ("countries",), "Yes, we ship within Europe: to Norway and all EU countries."),
    ("a name near, not in, a denial", ("countries",), "We ship to Norway, Finland and all EU countries in Europe."),
]


@pytest.mark.parametrize(("sources", "draft"), [g[1:] for g in GROUNDED], ids=[g[0] for g in GROUNDED])
def test_grounded_drafts_pass(guard: GroundingGuard, sources: tuple[str, ...], draft: str) -> None:
    assert guard.check(draft, ctx(*sources)) == []


def test_no_sources_and_a_fact_is_ungrounded(guard: GroundingGuard) -> None:
    [finding] = guard.check("Delivery takes 2-4 business days.", ctx())
    assert finding.kind == "ungrounded"
    assert "no published source" in finding.reason


def test_reason_names_the_source_and_its_number(guard: GroundingGuard) -> None:
    [finding] = guard.check("Delivery takes 30 minutes.", ctx("delivery"))
    assert "'30 minutes'" in finding.reason
    assert "Delivery times" in finding.reason
    assert "2-4 business days" in finding.reason


def test_customer_may_name_things(guard: GroundingGuard) -> None:
    draft = "Delivery to Tromsø in Norway takes 2-4 business days."
    assert guard.check(draft, ctx("delivery", customer="How long to Tromsø?")) == []


def test_long_draft_fails_closed_quickly(guard: GroundingGuard) -> None:
    started = time.perf_counter()
    findings = guard.check("Delivery takes 2-4 business days. " * 3000, ctx("delivery"))
    assert time.perf_counter() - started < 1.0
    assert [f.label for f in findings] == ["too_long"]


@pytest.mark.parametrize("unit", ["1 ", "two to four ", "Hello World ", "15% off ", "I'll ", "\u200b", ". "])
def test_pathological_input_at_the_limit_finishes(guard: GroundingGuard, unit: str) -> None:
    started = time.perf_counter()
    guard.check((unit * 20_000)[:20_000], ctx("delivery", "prices", "hours"))
    assert time.perf_counter() - started < 5.0


def test_options() -> None:
    assert build_guard("grounding", "g", {"min_support": 0.7}, None).stage is Stage.OUTBOUND
    with pytest.raises(ConfigError):
        build_guard("grounding", "g", {"nonsense": True}, None)
