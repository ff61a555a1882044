"""The approved-answer responder on the demo shop: does it quote the right fact, and decline the rest?

    safedesk bench answers [--set dev|test|all]
    python -m safedesk.bench.answers [--set dev|test|all]

Each labelled question (`safedesk.bench.answer_sets`) is retrieved like a live turn (the 3 best public
chunks of the demo knowledge, default embedder) and answered by `ApprovedAnswerResponder` with its
default settings. Reported per set:

- covered questions: `accuracy` (the reply contains one of the expected facts and its first source is
  the expected page), `answer_rate` (any answer at all, right or wrong);
- uncovered questions: `decline_rate` (the not-sure answer) and `wrong_answer_rate` (answered when it
  should have declined; the two add up to 1);
- `misses`: every question scored wrong, with the first line of the reply.

DEV is what the ranking was tuned on; TEST is held out (see answer_sets). Covered right / uncovered
declined, before the fixes the bench led to and after them (TEST run once, after):

    dev   52/61 (85%), 19/22  ->  60/61 (98%), 19/22
    test  35/42 (83%), 10/14  ->  35/42 (83%), 10/14

The dev gain did not carry over: three of its fixes were rewordings of the demo pages close to the dev
questions, and none of the held-out misses were of the kinds fixed.

The responder's focus check (decline a sentence on the question's topic but not its focus), tuned on
DEV extended to 83 covered and 47 uncovered questions first; TEST run once, after:

    dev   81/83 (98%), 31/47 (66%)  ->  80/83 (96%), 45/47 (96%)
    test  35/42 (83%), 10/14 (71%)  ->  33/42 (79%), 14/14 (100%)

The held-out uncovered questions are the kind it was built for and were known when it was (the four
that got an answer were named in the brief, and the new DEV questions include their kind), so 14/14
flatters it. It cost two held-out covered questions ("Do I need the price tags still on to return
clothes?", "Where can I park my car when visiting the shop?"), and two held-out covered questions that
got a wrong fact before now get the not-sure answer instead.

A price question then rewarded sentences with an amount of money, not any number (from a shop owner's
report, not from TEST): test 33/42 -> 34/42, the uncovered figures unchanged.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safedesk.bench.answer_sets import SETS, Question
from safedesk.domain import Draft, ResponderRequest
from safedesk.responders.base import NOT_SURE_TEXT

DEMO_KNOWLEDGE = Path(__file__).resolve().parent.parent / "demo" / "knowledge"
TOP_K = 3  # chunks retrieved per question, as in the pipeline
BUSINESS = "Nordlys Outdoor"


@dataclass(frozen=True, slots=True)
class Outcome:
    """One question and the reply it got."""

    question: Question
    text: str
    sources: tuple[str, ...]
    confident: bool

    @property
    def declined(self) -> bool:
        return not self.confident and self.text == NOT_SURE_TEXT

    @property
    def right(self) -> bool:
        """Covered: the expected fact is quoted and the expected page is cited first. Uncovered: declined."""
        q = self.question
        if not q.covered:
            return self.declined
        reply = " ".join(self.text.split())
        first_source_right = bool(self.sources) and self.sources[0] == q.title
        return self.confident and first_source_right and any(" ".join(f.split()) in reply for f in q.facts)


def outcome(question: Question, draft: Draft) -> Outcome:
    return Outcome(question, draft.text, tuple(draft.sources), draft.confident)


def _rate(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def _miss(o: Outcome) -> dict[str, Any]:
    got = o.text.splitlines()[0] if o.confident else "(not sure)"
    entry: dict[str, Any] = {"question": o.question.text, "got": got, "sources": list(o.sources)}
    if o.question.covered:
        entry["expected"] = {"title": o.question.title, "facts": list(o.question.facts)}
    return entry


def score(outcomes: Iterable[Outcome]) -> dict[str, Any]:
    """The set's figures: accuracy and answer rate on covered questions, decline and wrong-answer rates
    on uncovered ones, and the questions scored wrong."""
    rows = list(outcomes)
    cov = [o for o in rows if o.question.covered]
    unc = [o for o in rows if not o.question.covered]
    declined = sum(o.declined for o in unc)
    return {
        "covered": {
            "questions": len(cov),
            "right": sum(o.right for o in cov),
            "accuracy": _rate(sum(o.right for o in cov), len(cov)),
            "answer_rate": _rate(sum(o.confident for o in cov), len(cov)),
        },
        "uncovered": {
            "questions": len(unc),
            "declined": declined,
            "decline_rate": _rate(declined, len(unc)),
            "wrong_answer_rate": _rate(len(unc) - declined, len(unc)),
        },
        "misses": [_miss(o) for o in rows if not o.right],
    }


def answer_all(questions: Sequence[Question], knowledge_dir: Path = DEMO_KNOWLEDGE) -> list[Outcome]:
    """Retrieve and answer every question as a live turn would (approved responder, default settings)."""
    from safedesk.knowledge import KnowledgeBase, default_embedder
    from safedesk.responders.approved import ApprovedAnswerResponder

    embedder = default_embedder()
    responder = ApprovedAnswerResponder(embedder=embedder)
    with tempfile.TemporaryDirectory(prefix="safedesk-bench-answers-") as cache:
        kb = KnowledgeBase.load(knowledge_dir, Path(cache), embedder=embedder)
        out: list[Outcome] = []
        for q in questions:
            hits = tuple(kb.retriever.search(q.text, k=TOP_K))
            request = ResponderRequest(text=q.text, history=(), chunks=hits, business_name=BUSINESS)
            out.append(outcome(q, responder.respond(request)))
    return out


def evaluate_answers(sets: Sequence[str] = ("dev", "test")) -> dict[str, Any]:
    unknown = [name for name in sets if name not in SETS]
    if unknown:
        raise ValueError(f"unknown question set(s): {', '.join(unknown)} (known: {', '.join(SETS)})")
    return {name: score(answer_all(SETS[name])) for name in sets}


def run_answers_bench(which: str = "all") -> str:
    sets = tuple(SETS) if which == "all" else (which,)
    return json.dumps(evaluate_answers(sets), indent=2, ensure_ascii=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="which", choices=[*SETS, "all"], default="all")
    args = parser.parse_args(argv)
    sys.stdout.write(run_answers_bench(args.which) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
