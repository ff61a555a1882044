"""The answers bench: its scoring on a tiny labelled set, and the labels of its question sets."""

from __future__ import annotations

from collections import defaultdict

from safedesk.bench.answer_sets import DEV, SETS, TEST, covered, uncovered
from safedesk.bench.answers import DEMO_KNOWLEDGE, Outcome, score
from safedesk.knowledge import load_knowledge
from safedesk.responders.base import NOT_SURE_TEXT

DELIVERY = covered("How long does delivery take?", "Shipping", "2-4 business days", "two to four days")
NOT_COVERED = uncovered("Do you sell helicopters?")


def _answered(question, text: str, *sources: str) -> Outcome:
    return Outcome(question, f"{text}\n(Source: {'; '.join(sources)})", sources, True)


def _declined(question) -> Outcome:
    return Outcome(question, NOT_SURE_TEXT, (), False)


def test_scores_are_counted_per_kind_of_question() -> None:
    outcomes = [
        _answered(DELIVERY, "Delivery in Norway takes 2-4 business\ndays.", "Shipping"),  # right, across a line
        _answered(DELIVERY, "Delivery takes two to four days.", "Shipping", "FAQ"),  # right: the other fact
        _answered(DELIVERY, "Delivery in Norway takes 2-4 business days.", "FAQ", "Shipping"),  # wrong first source
        _answered(DELIVERY, "Returns are free.", "Shipping"),  # wrong fact
        _declined(DELIVERY),  # not answered
        _declined(NOT_COVERED),
        _answered(NOT_COVERED, "Gift cards are available.", "FAQ"),  # answered what it should decline
        _declined(NOT_COVERED),
        Outcome(NOT_COVERED, "Something else", (), False),  # not confident, but not the not-sure answer
    ]
    report = score(outcomes)
    assert report["covered"] == {"questions": 5, "right": 2, "accuracy": 0.4, "answer_rate": 0.8}
    assert report["uncovered"] == {"questions": 4, "declined": 2, "decline_rate": 0.5, "wrong_answer_rate": 0.5}
    assert [m["got"] for m in report["misses"]] == [
        "Delivery in Norway takes 2-4 business days.",
        "Returns are free.",
        "(not sure)",
        "Gift cards are available.",
        "(not sure)",
    ]
    assert report["misses"][0]["expected"] == {"title": "Shipping", "facts": ["2-4 business days", "two to four days"]}


def test_an_empty_set_has_no_rates() -> None:
    report = score([])
    assert report["covered"]["accuracy"] is None and report["uncovered"]["decline_rate"] is None


def test_every_expected_fact_is_on_its_page() -> None:
    """A label that cannot be met would count against the responder: each fact is in the page it names."""
    pages: dict[str, str] = defaultdict(str)
    for chunk in load_knowledge(DEMO_KNOWLEDGE):
        if chunk.is_public:
            pages[chunk.title] += " " + " ".join(chunk.text.split())
    for name, questions in SETS.items():
        for q in questions:
            if q.title is not None:
                assert any(fact in pages[q.title] for fact in q.facts), (name, q.text)


def test_the_sets_do_not_share_questions() -> None:
    dev = {q.text.lower() for q in DEV}
    assert len(dev) == len(DEV)
    assert not dev & {q.text.lower() for q in TEST}
    assert len(TEST) >= 40 and sum(not q.covered for q in TEST) >= 12


def test_the_bench_answers_demo_questions_end_to_end() -> None:
    from safedesk.bench.answers import answer_all

    right, declined = answer_all([DELIVERY, NOT_COVERED])
    assert right.right and right.confident and right.sources[0] == "Shipping"
    assert declined.right and declined.declined
