"""The approved-answer responder: verbatim sentences from public chunks, or an honest "I don't know"."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import safedesk
from safedesk.domain import Access, KnowledgeChunk, ResponderRequest, RetrievedChunk
from safedesk.knowledge import KnowledgeBase, default_embedder
from safedesk.knowledge.text import strip_markdown
from safedesk.responders.approved import ApprovedAnswerResponder
from safedesk.responders.base import NOT_SURE_TEXT, Responder

DEMO_KNOWLEDGE = Path(safedesk.__file__).parent / "demo" / "knowledge"


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return KnowledgeBase.load(DEMO_KNOWLEDGE, tmp_path_factory.mktemp("cache"), embedder=default_embedder())


@pytest.fixture(scope="module")
def responder() -> ApprovedAnswerResponder:
    return ApprovedAnswerResponder(embedder=default_embedder())


def ask(kb: KnowledgeBase, responder: ApprovedAnswerResponder, question: str, k: int = 3):
    hits = tuple(kb.retriever.search(question, k=k))
    request = ResponderRequest(text=question, history=(), chunks=hits, business_name="Nordlys Outdoor")
    return responder.respond(request), hits


def _normalise(text: str) -> str:
    return " ".join(text.split())


def assert_verbatim(reply: str, chunks: tuple[RetrievedChunk, ...]) -> None:
    """Every sentence of the reply (except the source line) occurs in the text of a given chunk."""
    source_text = " \n ".join(_normalise(strip_markdown(line)) for h in chunks for line in h.chunk.text.splitlines())
    lines = reply.splitlines()
    assert re.fullmatch(r"\(Sources?: .+\)", lines[-1]), lines[-1]
    for line in lines[:-1]:
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            assert _normalise(sentence) in source_text, f"invented or altered: {sentence!r}"


COVERED = [
    # question, text the reply must contain, source title
    ("How long does delivery take?", "2-4 business days", "Shipping"),
    ("When will an order to Sweden arrive?", "3-5 business days", "Shipping"),
    ("What are your opening hours?", "Monday to Friday: 10:00-19:00", "Opening hours and contact"),
    ("When is the shop open on Saturday?", "Saturday: 10:00-17:00", "Opening hours and contact"),
    ("What is your return policy?", "30 days", "Returns and refunds"),
    ("How do I return an item?", "Print the return label", "Returns and refunds"),
    # asks for an amount: the sentence that states it, not the return procedure of the top section
    ("How many days do I have to return an item?", "within 30 days", "Returns and refunds"),
    ("How long do refunds take?", "within 14 days", "Returns and refunds"),
    ("Which payment methods do you accept?", "Vipps (Norway only)", "Payment"),
    ("Is Klarna invoice free?", "free if you pay within 14 days", "Payment"),
    ("What does shipping cost?", "79 NOK", "Shipping"),
    ("Do you sell gift cards?", "Gift cards are available", "Frequently asked questions"),
    ("How much does it cost to rent a tent?", "250 NOK per weekend", "Frequently asked questions"),
    ("How do I wash my rain jacket?", "30-40 degrees", "Product care"),
    # Found by a bug hunt: "down" was a stop word, so this got the shell-jacket instructions.
    ("How do I wash my down jacket?", "down detergent", "Product care"),
    ("What chest size is a medium?", "M | 94-100", "Size guide"),
]


@pytest.mark.parametrize(("question", "must_contain", "title"), COVERED)
def test_covered_questions_are_answered_from_the_right_page(
    kb: KnowledgeBase, responder: ApprovedAnswerResponder, question: str, must_contain: str, title: str
) -> None:
    draft, hits = ask(kb, responder, question)
    assert draft.confident, question
    assert must_contain in draft.text
    assert title in draft.sources
    assert draft.responder == "approved"
    assert draft.text.splitlines()[-1] in (f"(Source: {title})", f"(Sources: {'; '.join(draft.sources)})")
    assert_verbatim(draft.text, hits)


# Found by a bug hunt: the reply quoted a section that shares the question's words but answers something
# else. (question, text the reply must contain, its page, text it must not contain)
WRONG_SECTION = [
    # "card number ... by chat, email or phone" has both terms; the contact list lacks "number"
    ("What is your phone number?", "+47 55 00 00 00", "Opening hours and contact", "card number"),
    # boot care ranked 0.405, faulty products 0.384: the near-tie was settled for the section, not the sentence
    ("What is the warranty on boots?", "up to 5 years", "Returns and refunds", "Clean boots"),
    # Found by the answers bench: the complaints section never said "warranty" or "guarantee", so these got
    # care tips; the demo now says so, as a shop would.
    ("Is there a warranty on hiking boots?", "up to 5 years", "Returns and refunds", "Clean boots"),
    ("Do tents have a guarantee?", "up to 5 years", "Returns and refunds", "dry your tent"),
    # Found by the answers bench: the bare contact list ("How to reach us", "- Email: ...") scored below the
    # threshold for these, and "reach" pulled "When can I reach customer service?" to it; the list is labelled now.
    ("What is your email address?", "kundeservice@nordlys-outdoor.example", "Opening hours and contact", "card"),
    ("How can I call you?", "+47 55 00 00 00", "Opening hours and contact", "card"),
    ("When can I reach customer service?", "09:00-17:00", "Opening hours and contact", "chat window"),
]


@pytest.mark.parametrize(("question", "must_contain", "title", "wrong"), WRONG_SECTION)
def test_the_section_that_answers_wins_over_one_that_shares_words(
    kb: KnowledgeBase, responder: ApprovedAnswerResponder, question: str, must_contain: str, title: str, wrong: str
) -> None:
    draft, hits = ask(kb, responder, question)
    assert draft.confident
    assert must_contain in draft.text
    assert draft.sources[0] == title
    assert wrong not in draft.text
    assert_verbatim(draft.text, hits)


UNCOVERED = [
    "Do you sell helicopters?",
    "What is the capital of Peru?",
    "How do I bake sourdough bread?",
    "Who won the football match yesterday?",
    "Can I bring my dog into the shop?",
    "Write me a poem about the sea.",
]


@pytest.mark.parametrize("question", UNCOVERED)
def test_uncovered_questions_get_i_dont_know(
    kb: KnowledgeBase, responder: ApprovedAnswerResponder, question: str
) -> None:
    draft, _ = ask(kb, responder, question)
    assert not draft.confident
    assert draft.text == NOT_SURE_TEXT
    assert draft.sources == ()
    assert "not sure" in draft.text and "staff" in draft.text  # says it does not know, offers a person


# Found by the answers bench: a section on the question's topic but not its focus passed the threshold and
# read like an answer (gift wrapping -> gift cards, guided hikes -> boot fitting, a course -> rentals).
NEIGHBOURING = [
    "Do you offer gift wrapping?",
    "Do you organise guided hikes?",
    "Can I book a kayak course?",
    "Do you give a discount to teachers?",
    "Do you recycle old tents?",
    "Is there an age limit for renting a kayak?",
]


@pytest.mark.parametrize("question", NEIGHBOURING)
def test_a_section_on_the_topic_but_not_the_focus_gets_i_dont_know(
    kb: KnowledgeBase, responder: ApprovedAnswerResponder, question: str
) -> None:
    draft, _ = ask(kb, responder, question)
    assert not draft.confident, draft.text
    assert draft.text == NOT_SURE_TEXT


# A word no retrieved section uses does not decline a question the section answers: a synonym moves the
# question closer to the sentence, and vague words name no focus.
OTHER_WORDS = [
    ("What's the postage to Denmark?", "149 NOK"),
    ("How do I launder my waterproof coat?", "30-40 degrees"),
    ("Do you ship to the UK?", "United Kingdom"),
    ("Is there parking near the shop?", "Bygarasjen"),
    ("Do I need the original packaging to return something?", "original packaging"),
]


# Found by `safedesk bench turn`: greetings and sign-offs are words no section uses, and the focus check
# declined "Good morning, do you ship to Germany? Cheers" (777 of its 1,120 phrasings answered -> 621).
GREETED = [
    ("Good morning, How long does delivery take? Cheers", "2-4 business days"),
    ("Quick question: Do you ship to Germany? Thank you.", "EU countries"),
    ("Good morning, Do you sell tents?", "tents"),
]


@pytest.mark.parametrize(("question", "must_contain"), OTHER_WORDS + GREETED)
def test_words_the_pages_do_not_use_still_get_the_answer(
    kb: KnowledgeBase, responder: ApprovedAnswerResponder, question: str, must_contain: str
) -> None:
    draft, _ = ask(kb, responder, question)
    assert draft.confident
    assert must_contain in draft.text


def test_the_focus_check_declines_a_neighbouring_fact_and_keeps_the_fact_asked_for() -> None:
    responder = ApprovedAnswerResponder(embedder=default_embedder())
    student = _hit(
        "Students get 10% off full-price products in the shop when they show a valid student card.",
        0.6,
        title="FAQ",
        heading="Do you offer student discounts?",
    )
    assert responder.respond(_request("Do you offer student discounts?", student)).confident
    assert not responder.respond(_request("Do you give a discount to teachers?", student)).confident
    gift = _hit("Yes. Gift cards are available from 200 NOK to 5,000 NOK.", 0.9, heading="Do you sell gift cards?")
    assert not responder.respond(_request("Do you sell groceries?", gift)).confident
    rent = _hit("Yes, we rent out tents, sleeping bags and kayaks from our shop.", 0.9, heading="Do you rent out gear?")
    assert not responder.respond(_request("Do you rent out cars?", rent)).confident
    # Without an embedder there is no measure of meaning: the threshold alone decides.
    assert ApprovedAnswerResponder().respond(_request("Do you give a discount to teachers?", student)).confident


VARIED = [
    "how fast do you deliver to oslo",
    "Can I collect my order at your store in Bergen?",
    "Are there import fees for EU orders?",
    "Do I need the original packaging to return something?",
    "can I return socks",
    "Is there parking near the shop?",
    "Are you open at Easter?",
    "Do you accept MobilePay?",
    "Does Klarna do a credit check?",
    "Another shop sells this tent cheaper, will you match it?",
    "How often do you send newsletters?",
    "Can I use fabric softener on my shell jacket?",
    "My tent got mouldy, how do I avoid that?",
    "I'm between two sizes, which should I choose?",
    "Someone asked for my card PIN by email, is that you?",
]


@pytest.mark.parametrize("question", VARIED + [q for q, _, _ in COVERED])
def test_replies_are_verbatim_and_free_of_markdown(
    kb: KnowledgeBase, responder: ApprovedAnswerResponder, question: str
) -> None:
    draft, hits = ask(kb, responder, question)
    if not draft.confident:
        pytest.skip("not answered")
    assert_verbatim(draft.text, hits)
    assert "**" not in draft.text and "#" not in draft.text and "](" not in draft.text
    assert not any(line.lstrip().startswith(("- ", "* ")) for line in draft.text.splitlines())
    body_lines = draft.text.splitlines()[:-1]
    assert 1 <= sum(len(re.split(r"(?<=[.!?])\s+", line)) for line in body_lines if not line.endswith(":")) <= 8
    assert set(draft.sources) <= {h.chunk.title for h in hits}
    assert 1 <= len(draft.sources) <= 2


def _hit(text: str, score: float, *, title: str = "Page", heading: str = "Section", cid: str = "c1") -> RetrievedChunk:
    return RetrievedChunk(KnowledgeChunk(cid, title, heading, text, f"{title.lower()}.md", Access.PUBLIC), score)


def _request(question: str, *hits: RetrievedChunk) -> ResponderRequest:
    return ResponderRequest(text=question, history=(), chunks=hits, business_name="Shop")


@pytest.mark.parametrize("embedder", [None, "default"])
def test_markdown_is_stripped_from_quoted_sentences(embedder: str | None) -> None:
    responder = ApprovedAnswerResponder(embedder=default_embedder() if embedder else None)
    hit = _hit(
        "## Delivery\n\n**Delivery** in Norway takes *2-4* business days. See [our page](https://x.example/s).\n\n"
        "- Sweden: `3-5` days\n- Denmark: 3-5 days",
        0.9,
        title="Shipping",
    )
    draft = responder.respond(_request("How long does delivery in Norway take?", hit))
    assert draft.confident
    assert "Delivery in Norway takes 2-4 business days." in draft.text
    for marker in ("**", "##", "`", "](", "- "):
        assert marker not in draft.text


def test_no_chunks_low_scores_or_empty_question_mean_not_sure() -> None:
    responder = ApprovedAnswerResponder()
    hit = _hit("Delivery in Norway takes 2-4 business days.", 0.2)
    assert not responder.respond(_request("How long does delivery take?")).confident
    assert not responder.respond(_request("How long does delivery take?", hit)).confident
    assert not responder.respond(_request("   ", _hit("Delivery takes 2 days.", 0.9))).confident
    strict = ApprovedAnswerResponder(min_confidence=0.95)
    assert not strict.respond(_request("How long does delivery take?", _hit("Delivery takes 2 days.", 0.9))).confident
    with pytest.raises(ValueError, match="min_confidence"):
        ApprovedAnswerResponder(min_confidence=1.5)


def test_shared_words_without_shared_meaning_do_not_pick_the_answer() -> None:
    """The top chunk passes the threshold on shared words only; a retrieved chunk below the threshold whose
    sentence answers the question is quoted instead (and the unrelated one is not added as a second source)."""
    responder = ApprovedAnswerResponder(embedder=default_embedder())
    security = _hit(
        "We will never ask for your card number, PIN, BankID or Vipps code by chat, email or phone.",
        0.48,
        title="Payment",
        heading="Payment security",
        cid="a",
    )
    contact = _hit(
        "- Email: kundeservice@shop.example\n- Phone: +47 55 00 00 00",
        0.34,
        title="Contact",
        heading="How to reach us",
        cid="b",
    )
    draft = responder.respond(_request("What is your phone number?", security, contact))
    assert "Phone: +47 55 00 00 00" in draft.text
    assert draft.sources == ("Contact",)
    # The threshold still decides whether the question is answered at all.
    assert not responder.respond(_request("What is your phone number?", contact)).confident


def test_a_near_tie_in_retrieval_is_settled_by_the_sentences() -> None:
    """A section ranked just below the top one answers when its sentence fits clearly better; a section
    ranked well below needs a larger gain (lexical-only scores, so the numbers are exact)."""
    responder = ApprovedAnswerResponder()
    question = "How long is the warranty on hiking boots for small kids?"
    care_text = "Hiking boots for small kids should be cleaned after every trip."
    warranty_text = "Hiking boots for small kids have a warranty of two years."

    def answer(care_score: float, warranty_score: float) -> str:
        care = _hit(care_text, care_score, title="Care", cid="a")
        warranty = _hit(warranty_text, warranty_score, title="Complaints", cid="b")
        return responder.respond(_request(question, care, warranty)).text

    assert answer(0.41, 0.40).startswith(warranty_text)  # 4 of 6 terms against 5 of 6, retrieval tied
    assert answer(0.70, 0.36).startswith(care_text)  # retrieval clearly prefers the care section


def test_a_yes_that_answers_another_question_is_dropped() -> None:
    # Lexical scores: with embeddings the focus check declines "groceries" before the "Yes." matters.
    responder = ApprovedAnswerResponder()
    gift = _hit("Yes. Gift cards are available from 200 NOK to 5,000 NOK.", 0.9, heading="Do you sell gift cards?")
    same = responder.respond(_request("Do you sell gift cards?", gift))
    assert same.text.startswith("Yes. Gift cards")
    other = responder.respond(_request("Do you sell groceries?", gift))
    assert other.text.startswith("Gift cards are available")


def test_a_yes_with_a_comma_that_answers_another_question_is_dropped_too() -> None:
    """Found by a bug hunt: "Do you rent out cars?" got "Yes, we rent out tents, ..." (only "Yes." was caught)."""
    responder = ApprovedAnswerResponder()  # lexical: with embeddings "cars" is declined by the focus check
    rent = _hit("Yes, we rent out tents, sleeping bags and kayaks from our shop.", 0.9, heading="Do you rent out gear?")
    assert responder.respond(_request("Do you rent out cars?", rent)).text.startswith("We rent out tents")
    assert responder.respond(_request("Do you rent out gear?", rent)).text.startswith("Yes, we rent")


def test_a_lists_lead_in_is_not_quoted_without_its_list() -> None:
    """Found by a bug hunt: "Can I pay cash online?" got "We accept the following payment methods in our online
    shop: In the shop in Bergen you can also pay with cash.", which reads as if cash is taken online."""
    responder = ApprovedAnswerResponder(embedder=default_embedder())
    hit = _hit(
        "We accept the following payment methods in our online shop:\n\n- Visa and Mastercard\n- Vipps\n- Klarna"
        "\n\nIn the shop in Bergen you can also pay with cash.",
        0.9,
        title="Payment",
        heading="Payment",
    )
    text = responder.respond(_request("Can I pay cash online?", hit)).text
    assert "following payment methods in our online shop:" not in text or "Vipps" in text


def test_short_lists_are_quoted_whole_with_their_lead_in() -> None:
    responder = ApprovedAnswerResponder(embedder=default_embedder())
    hit = _hit(
        "The shop is open:\n\n- Monday to Friday: 10:00-19:00\n- Saturday: 10:00-17:00\n- Sunday: closed",
        0.9,
        title="Opening hours",
        heading="Shop opening hours",
    )
    draft = responder.respond(_request("Are you open on Saturday?", hit))
    assert draft.text.splitlines() == [
        "The shop is open:",
        "Monday to Friday: 10:00-19:00",
        "Saturday: 10:00-17:00",
        "Sunday: closed",
        "(Source: Opening hours)",
    ]


def test_max_sources_limits_the_pages_quoted() -> None:
    hits = (
        _hit("Delivery in Norway takes 2-4 business days.", 0.8, title="Shipping", cid="a"),
        _hit("Deliveries in Norway take 2-4 business days by post.", 0.79, title="FAQ", cid="b"),
    )
    one = ApprovedAnswerResponder(max_sources=1, embedder=default_embedder())
    assert len(one.respond(_request("How long does delivery in Norway take?", *hits)).sources) == 1


def test_it_is_a_responder() -> None:
    responder = ApprovedAnswerResponder()
    assert isinstance(responder, Responder)
    assert responder.name == "approved"


@pytest.mark.parametrize("embedder", [None, "default"])
def test_a_question_in_the_text_is_quoted_only_with_its_answer(embedder: str | None) -> None:
    """Found by the answers bench: "Can I exchange for another size?" got only "Need another size or colour?",
    the section's rhetorical question, which shares the most words with the question and answers nothing."""
    responder = ApprovedAnswerResponder(embedder=default_embedder() if embedder else None)
    hit = _hit(
        "Need another size or colour? Return the product you have and place a new order. "
        "Refunds are sent within 14 days.",
        0.9,
        title="Returns",
        heading="Exchanges",
    )
    lines = responder.respond(_request("Can I exchange for another size?", hit)).text.splitlines()
    assert lines[0].startswith("Need another size or colour? Return the product you have and place a new order.")


def test_a_yes_is_dropped_when_the_question_is_not_a_yes_no_question() -> None:
    """Found by the answers bench: "What do you sell?" got "Yes. Gift cards are available ...", since every term
    of the question is in the heading "Do you sell gift cards?"."""
    responder = ApprovedAnswerResponder(embedder=default_embedder())
    gift = _hit("Yes. Gift cards are available from 200 NOK to 5,000 NOK.", 0.9, heading="Do you sell gift cards?")
    assert responder.respond(_request("What do you sell?", gift)).text.startswith("Gift cards are available")
    assert responder.respond(_request("Hi, do you sell gift cards?", gift)).text.startswith("Yes. Gift cards")


def test_a_question_heading_does_not_drown_its_sentences() -> None:
    """Found by the answers bench: "What do you sell?" got the gift-card answer, as "We sell clothing, ..." was
    measured together with its FAQ heading "Who is Nordlys Outdoor?", which asks something else."""
    responder = ApprovedAnswerResponder(embedder=default_embedder())
    gift = _hit(
        "Yes. Gift cards are available from 200 NOK to 5,000 NOK and are valid for 3 years.",
        0.48,
        title="FAQ",
        heading="Do you sell gift cards?",
        cid="a",
    )
    about = _hit(
        "Nordlys Outdoor is an outdoor gear shop in Bergen, founded in 2009. We sell clothing, footwear, tents, "
        "sleeping bags, backpacks and kayaks for hiking, camping and paddling, in our shop and online.",
        0.40,
        title="FAQ",
        heading="Who is Nordlys Outdoor?",
        cid="b",
    )
    text = responder.respond(_request("What do you sell?", gift, about)).text
    assert text.startswith("We sell clothing, footwear")
    assert "Gift cards" not in text


def test_a_price_question_prefers_a_price_to_any_number(responder: ApprovedAnswerResponder) -> None:
    # "60 percent" is a number but not a price: it must not ride along on the bonus for amounts.
    hit = _hit(
        "We store bicycles over the winter from 1 November to 1 April for 990 NOK, including a basic service "
        "in March.\n\nBring the bike in clean; we do not store bikes with flat batteries on e-bikes, please "
        "charge to 60 percent.",
        0.8,
        title="Winter storage for your bike",
        heading="Winter storage for your bike",
    )
    for question in ("How much does winter storage cost?", "What does winter storage cost?"):
        draft = responder.respond(_request(question, hit))
        assert "990 NOK" in draft.text and "60 percent" not in draft.text, draft.text


def test_a_long_question_of_unknown_words_costs_a_bounded_number_of_embeddings() -> None:
    """Found by a review: the focus check embedded the question once per word no section uses, so a
    2,800-character message of such words took about 8 s of CPU."""
    inner = default_embedder()
    embedded: list[int] = []

    class Counting:
        def embed(self, texts: list[str]) -> Any:
            embedded.append(len(texts))
            return inner.embed(texts)

    responder = ApprovedAnswerResponder(embedder=Counting())  # type: ignore[arg-type]
    hit = _hit("Delivery in Norway takes 2-4 business days.", 0.8, title="Shipping", heading="Delivery")
    story = " ".join(f"lantern{i} meadow{i}" for i in range(150))
    responder.respond(_request(f"{story} How long does delivery take?", hit))
    assert sum(embedded) <= 20, embedded
