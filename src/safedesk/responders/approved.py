"""The approved-answer responder: replies only with sentences copied from the shop's public pages.

No model writes anything. When the best retrieved public chunk scores at least `min_confidence`, it
takes the top-ranked section (or another retrieved one whose best sentence fits the question clearly
better), quotes the sentence that best answers the question plus up to two more from the same section
that are at least 60% as relevant, and cites the page: "(Source: Shipping)". A question in the text
("Need another size?") is quoted only together with the sentence that answers it. A short list (opening
hours, payment methods) is quoted whole, with its lead-in line, one item per line. Every sentence of the
reply occurs verbatim in a source chunk (only markdown markers such as "**", "#" and list dashes are
dropped, and a leading "Yes." unless a yes/no question asks exactly what the section answers), so it
cannot invent a fact. When nothing scores high enough it says so and offers a person (`confident=False`).
It says so too when the chosen sentence fits the question's topic but not its focus: a question word that
no retrieved section uses ("military", "wrapping", "guided") must bring the question closer in meaning to
that sentence, unless the sentence is a close paraphrase of the whole question ("Do you offer a military
discount?" no longer gets the student discount; "What's the postage to Denmark?" still gets the prices).

Sentence relevance blends the embedding similarity of question and "heading: sentence" (the sentence
alone under a heading that is itself a question) with the share of the question's terms the sentence
and its heading contain; that share counts in full only for a sentence that is also close in meaning.

Measured with `safedesk bench answers` on the demo shop (the reply quotes the expected fact and cites
the expected page first): 80 of 83 covered questions of the dev set, which the ranking, the demo wording
and the focus check were tuned on, and 34 of 42 (81%) of the held-out test set; 45 of 47 dev (14 of 14
held out) uncovered questions get the not-sure answer. Before the focus check: 81 of 83 and 35 of 42
covered, 31 of 47 and 10 of 14 uncovered. The check costs covered questions whose extra word moves the
question too little ("Do I need the price tags still on ...", "... park my car when visiting the shop?").
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from safedesk.domain import Draft, ResponderRequest, RetrievedChunk
from safedesk.knowledge.embeddings import TextEmbedder
from safedesk.knowledge.retrieve import SEM_CEIL, SEM_FLOOR, index_text
from safedesk.knowledge.text import Unit, split_units, terms, word_spans
from safedesk.responders.base import NOT_SURE_TEXT

__all__ = ["NOT_SURE_TEXT", "ApprovedAnswerResponder"]

_YES_NO_LEAD = re.compile(r"^(?:Yes|No)[.!,]\s+(?=\w)")  # "Yes. We ...", "Yes, we ..."
# A question a "Yes." can answer: one (or a clause of one) that starts with an auxiliary verb.
_YES_NO_QUESTION = re.compile(
    r"(?:^|[.!?,;]\s*)(?:do|does|did|is|are|was|were|can|could|will|would|have|has|may|should|shall)\b",
    re.IGNORECASE,
)

# Weights of sentence relevance (semantic, lexical) and of the final pick (sentence, chunk).
_SEM_WEIGHT = 0.7
_UNIT_WEIGHT = 0.6
# Shared words count in full only for a sentence at least this similar in meaning (0..1 semantic
# scale), and in proportion below it: "card number ... by phone" shares both terms of "What is your
# phone number?" yet is unrelated to it.
_LEXICAL_SUPPORT = 0.2
# Another sentence joins the answer when it is at least this relevant relative to the best one.
_COMPANION_RATIO = 0.6
_SECOND_SOURCE_RATIO = 0.95
# Answer from a lower-ranked chunk only when its best option beats the top chunk's by this much in
# total (sentence and chunk score blended): the further below retrieval ranked it, the more its
# sentence must gain, and near-tied sections are told apart by their sentences.
_SWITCH_MARGIN = 0.06
# Earlier sentences of a section get up to this much extra (the main point usually comes first).
_POSITION_BONUS = 0.05
# A question that asks for an amount or a time ("how many days", "how long", "when") is answered by a
# sentence that states one: such sentences get this much extra (not whole lists: those are procedures).
_QUANTITY_BONUS = 0.25
_QUANTITY_QUESTION = re.compile(
    r"\b(?:how (?:many|much|long|soon|late|early|often|old)|what time|when|by what date|within how)\b", re.IGNORECASE
)
_QUANTITY = re.compile(r"\d")
# A question about a price ("How much does winter storage cost?", "Hva koster ...?") is answered by a
# sentence that states an amount of money or says free, not by any number ("charge to 60 percent").
_PRICE_QUESTION = re.compile(
    r"\b(?:cost|costs|price[sd]?|pricing|fees?|charge[sd]?|how much (?:is|are|will|would)|"
    r"kost\w*|pris\w*|avgift\w*|gebyr\w*)\b",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"\d(?:[\d ,.]*\d)?\s*(?:nok|sek|dkk|eur|usd|gbp|kr\b|kroner|kronor|euros?|dollars?|pounds?|[€$£]|,-)"
    r"|(?:nok|sek|dkk|eur|usd|gbp|kr\.?|[€$£])\s*\d|\b(?:free|gratis|no charge|kostnadsfri\w*)\b",
    re.IGNORECASE,
)
# Chunks (above the threshold) whose sentences compete; at most `max_sources` are quoted.
_MAX_CANDIDATES = 4
# Focus check. A question word that no retrieved section uses ("military", "wrapping", "guided") is
# spoken to by the chosen sentence only if the word brings the question at least this much closer to it
# in meaning (raw cosine): "postage" does to "Shipping costs ...", "military" does not to "Students get
# 10% off". Below that margin the difference is noise of the quantised embedder.
_FOCUS_MARGIN = 0.02
# ... unless the sentence is this close to the whole question anyway (raw cosine; a paraphrase).
_FOCUS_CLOSE = 0.60
# At most this many such words are tried, each costing one embedding of the question: a long message of
# words the pages never use took seconds (one embedding per word), and the first few decide anyway.
_MAX_FOCUS_WORDS = 8
# Greetings and sign-offs around the question are no part of its focus, and would fail the check as
# words no section uses: "Good morning, do you ship to Germany? Cheers".
_GREETING = re.compile(
    r"^(?:\s*(?:hi|hello|hey|hei|hej|dear\s+\w+|good\s+(?:morning|afternoon|evening|day)|greetings|"
    r"(?:a\s+)?quick\s+question|one\s+question)(?:\s+there)?\b[\s,.!:;-]*)+",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"(?:[\s.!]*\b(?:thanks?(?:\s+a\s+lot)?|thank\s+you|many\s+thanks|thx|cheers|(?:best\s+|kind\s+)?regards)"
    r"\b[\s.!]*)+$",
    re.IGNORECASE,
)
# Vague words never name what a question is about, and a sentence need not use them: "Do I need the
# original packaging to return something?", "Is there parking near the shop?". Nor do the words that
# only ask for an amount ("How much does winter storage cost?" is answered by "... for 990 NOK").
_VAGUE_WORDS = (
    frozenset(f"{lead}{tail}" for lead in ("some", "any", "every", "no") for tail in ("thing", "one", "body", "where"))
    | {"else", "near", "nearby"}
    | {
        "cost",
        "costs",
        "price",
        "prices",
        "priced",
        "charge",
        "charges",
        "fee",
        "fees",
        "pay",
        "much",
        "koster",
        "pris",
    }
)


@dataclass(frozen=True, slots=True)
class _Option:
    """Something the answer could quote: one sentence, one list item, or a whole list."""

    kind: str  # "sentence" | "item" | "list"
    units: tuple[int, ...]  # indices into the chunk's units, in reading order (lead-in first)
    hit: RetrievedChunk
    rank: int
    score_text: str  # what relevance is measured on


@dataclass(frozen=True, slots=True)
class _Scored:
    total: float
    unit_score: float
    option: _Option


def _meaning_text(option: _Option) -> str:
    """What an option's similarity in meaning is measured on: its text with the section heading in front,
    except under an FAQ heading that is itself a question. That heading asks something else than the
    customer ("Who is Nordlys Outdoor?: We sell clothing, ...") and drowns the sentence: "What do you
    sell?" is close to "We sell clothing, ..." (cosine 0.49) but not to it with that heading (0.24)."""
    heading = option.hit.chunk.heading
    if heading.endswith("?"):
        return option.score_text.removeprefix(f"{heading}: ")
    return option.score_text


def _unknown_words(question: str, hits: Sequence[RetrievedChunk]) -> list[tuple[int, int]]:
    """Spans of the question's words with a term that none of the retrieved sections contains."""
    known: set[str] = set()
    for hit in hits:
        known.update(terms(index_text(hit.chunk)))
    return [
        (start, end)
        for start, end, word in word_spans(question)
        if word.lower() not in _VAGUE_WORDS and not set(terms(word)) <= known
    ]


class ApprovedAnswerResponder:
    """Answers with verbatim sentences from retrieved public chunks, or says it does not know."""

    name = "approved"
    in_process = True  # no I/O: the pipeline may call it inside the turn's transaction

    def __init__(
        self,
        min_confidence: float = 0.35,
        max_sources: int = 2,
        embedder: TextEmbedder | None = None,
        *,
        max_sentences: int = 3,
        max_list_items: int = 8,
    ) -> None:
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError("min_confidence must be between 0 and 1")
        self.min_confidence = min_confidence
        self.max_sources = max(1, max_sources)
        self.embedder = embedder
        self.max_sentences = max(1, max_sentences)
        self.max_list_items = max(1, max_list_items)

    # --- public ---------------------------------------------------------------------------------

    def respond(self, request: ResponderRequest) -> Draft:
        started = time.perf_counter()
        hits = self._candidates(request.chunks)
        if not hits or not request.text.strip():
            return self._not_sure(started)
        units = {h.chunk.chunk_id: split_units(h.chunk.text) for h in hits}
        scored = self._score(request.text, hits, units)
        if not scored:
            return self._not_sure(started)
        best = self._pick(scored)
        if not self._speaks_to(request.text, best.option, hits):
            return self._not_sure(started)
        picked = self._compose(best, scored, units)
        # Only a yes/no question can keep the section's "Yes.": "What do you sell?" shares every term
        # with the heading "Do you sell gift cards?", but is not answered by "Yes".
        q_terms = set(terms(request.text)) if _YES_NO_QUESTION.search(request.text.strip()) else None
        lines: list[str] = []
        for n, (hit, indices) in enumerate(picked):
            lines.extend(self._render(hit, [units[hit.chunk.chunk_id][i] for i in indices], q_terms, first=n == 0))
        titles = tuple(dict.fromkeys(hit.chunk.title for hit, _ in picked))
        label = "Source" if len(titles) == 1 else "Sources"
        text = "\n".join(lines) + f"\n({label}: {'; '.join(titles)})"
        return Draft(
            text=text,
            sources=titles,
            confident=True,
            responder=self.name,
            model_seconds=time.perf_counter() - started,
        )

    # --- steps ----------------------------------------------------------------------------------

    def _not_sure(self, started: float) -> Draft:
        return Draft(
            text=NOT_SURE_TEXT,
            sources=(),
            confident=False,
            responder=self.name,
            model_seconds=time.perf_counter() - started,
        )

    def _candidates(self, chunks: Sequence[RetrievedChunk]) -> list[RetrievedChunk]:
        seen: set[str] = set()
        out: list[RetrievedChunk] = []
        for hit in sorted(chunks, key=lambda h: -h.score):
            # RetrievedChunk already refuses non-public chunks; check again, it costs nothing.
            if not hit.chunk.is_public or hit.chunk.chunk_id in seen:
                continue
            # The threshold decides whether the question is covered at all (calibrated on the best
            # chunk); once it is, the other retrieved chunks compete on how well their sentences fit.
            if not out and hit.score < self.min_confidence:
                return []
            seen.add(hit.chunk.chunk_id)
            out.append(hit)
            if len(out) >= _MAX_CANDIDATES:
                break
        return out

    def _options(self, hit: RetrievedChunk, rank: int, units: list[Unit]) -> list[_Option]:
        prefix = f"{hit.chunk.heading or hit.chunk.title}: "
        options: list[_Option] = []
        i = 0
        while i < len(units):
            unit = units[i]
            if not unit.is_item:
                if unit.text.endswith("?"):
                    # A question in the text ("Need another size or colour?") answers nothing on its
                    # own: it is quoted only together with the sentence that answers it.
                    if i + 1 < len(units) and not units[i + 1].is_item:
                        text = f"{unit.text} {units[i + 1].text}"
                        options.append(_Option("sentence", (i, i + 1), hit, rank, prefix + text))
                else:
                    options.append(_Option("sentence", (i,), hit, rank, prefix + unit.text))
                i += 1
                continue
            j = i
            while j < len(units) and units[j].is_item and units[j].block == unit.block:
                j += 1
            lead: tuple[int, ...] = ()
            if i > 0 and not units[i - 1].is_item and units[i - 1].text.endswith(":"):
                lead = (i - 1,)
            items = tuple(range(i, j))
            lead_text = units[lead[0]].text + " " if lead else ""
            for k in items:
                options.append(_Option("item", (*lead, k), hit, rank, prefix + lead_text + units[k].text))
            if len(items) > 1:
                joined = "; ".join(units[k].text for k in items)
                options.append(_Option("list", (*lead, *items), hit, rank, prefix + lead_text + joined))
            i = j
        return options

    def _score(self, question: str, hits: list[RetrievedChunk], units: dict[str, list[Unit]]) -> list[_Scored]:
        q_terms = set(terms(question))
        options = [opt for rank, hit in enumerate(hits) for opt in self._options(hit, rank, units[hit.chunk.chunk_id])]
        semantic = self._semantic(question, [_meaning_text(o) for o in options])
        wants_price = bool(_PRICE_QUESTION.search(question))
        wants_quantity = wants_price or bool(_QUANTITY_QUESTION.search(question))
        answers_quantity = _MONEY if wants_price else _QUANTITY
        scored: list[_Scored] = []
        for n, option in enumerate(options):
            lexical = 0.0
            if q_terms:
                lexical = len(q_terms & set(terms(option.score_text))) / len(q_terms)
            if semantic is None:
                unit_score = lexical
            else:
                similarity = float(semantic[n])
                lexical *= min(1.0, similarity / _LEXICAL_SUPPORT)
                unit_score = _SEM_WEIGHT * similarity + (1 - _SEM_WEIGHT) * lexical
            n_units = len(units[option.hit.chunk.chunk_id])
            unit_score += _POSITION_BONUS * (1 - option.units[-1] / max(n_units, 1))
            if wants_quantity and option.kind == "sentence" and answers_quantity.search(option.score_text):
                unit_score += _QUANTITY_BONUS
            total = _UNIT_WEIGHT * unit_score + (1 - _UNIT_WEIGHT) * option.hit.score
            scored.append(_Scored(total, unit_score, option))
        return scored

    def _semantic(self, question: str, texts: list[str]) -> np.ndarray | None:
        if self.embedder is None or not texts:
            return None
        vectors = np.asarray(self.embedder.embed([question, *texts]), dtype=np.float32)
        cosine = vectors[1:] @ vectors[0]
        return np.clip((cosine - SEM_FLOOR) / (SEM_CEIL - SEM_FLOOR), 0.0, 1.0)

    def _speaks_to(self, question: str, option: _Option, hits: list[RetrievedChunk]) -> bool:
        """Whether the chosen sentence answers the question's focus, not just its topic: "Do you offer a
        military discount?" retrieves the student discount, which reads like an answer to a customer.
        Retrieval's threshold cannot tell, since the section fits the topic well. Without an embedder
        there is no measure of meaning, and the threshold alone decides."""
        if self.embedder is None:
            return True
        question = _SIGN_OFF.sub("", _GREETING.sub("", question)).strip() or question
        unknown = _unknown_words(question, hits)[:_MAX_FOCUS_WORDS]
        if not unknown:
            return True
        without = [" ".join((question[:start] + question[end:]).split()) for start, end in unknown]
        vectors = np.asarray(self.embedder.embed([_meaning_text(option), question, *without]), dtype=np.float32)
        cosine = vectors[1:] @ vectors[0]
        if cosine[0] >= _FOCUS_CLOSE:
            return True
        return all(cosine[0] - other >= _FOCUS_MARGIN for other in cosine[1:])

    def _pick(self, scored: list[_Scored]) -> _Scored:
        """The option to build the answer on: the best one of the top-ranked chunk, unless another
        chunk has an option that fits the question clearly better once the chunks' retrieval scores
        are counted too (retrieval ranks whole sections well; sentence scores are noisier, but a
        retrieval lead of 0.02 says nothing)."""
        best_per_rank: dict[int, _Scored] = {}
        for s in scored:
            current = best_per_rank.get(s.option.rank)
            if current is None or s.unit_score > current.unit_score:
                best_per_rank[s.option.rank] = s
        first = min(best_per_rank)
        choice = best_per_rank[first]
        for rank in sorted(best_per_rank):
            other = best_per_rank[rank]
            if other.total > choice.total + _SWITCH_MARGIN:
                choice = other
        return choice

    def _compose(
        self, best: _Scored, scored: list[_Scored], units: dict[str, list[Unit]]
    ) -> list[tuple[RetrievedChunk, list[int]]]:
        """What to quote: (chunk, unit indices in reading order), primary chunk first."""
        option = best.option
        hit = option.hit
        chunk_units = units[hit.chunk.chunk_id]
        lists = [s for s in scored if s.option.kind == "list" and s.option.hit is hit]
        if option.kind == "sentence":
            # A lead-in such as "We accept the following payment methods:" means: quote its list.
            follow = [s for s in lists if s.option.units[0] == option.units[0]]
            if follow:
                best, option = follow[0], follow[0].option
        elif option.kind == "item":
            # An item means little without its neighbours ("Saturday: 10:00-17:00" without Sunday):
            # quote the list it belongs to (its best items when the list is long).
            group = [s for s in lists if option.units[-1] in s.option.units]
            if group:
                best, option = group[0], group[0].option
            else:
                return [(hit, list(option.units))]
        if option.kind == "list":
            lead = [i for i in option.units if not chunk_units[i].is_item]
            items = [i for i in option.units if chunk_units[i].is_item]
            if len(items) > self.max_list_items:
                item_scores = {
                    s.option.units[-1]: s.unit_score for s in scored if s.option.kind == "item" and s.option.hit is hit
                }
                items = sorted(sorted(items, key=lambda i: -item_scores.get(i, 0.0))[: self.max_sentences])
            return [(hit, lead + items)]
        # Prose: the best sentence, plus sentences of the same section that are nearly as relevant.
        picked = list(option.units)
        floor = _COMPANION_RATIO * best.unit_score
        same = [s for s in scored if s.option.hit is hit and s.option.kind == "sentence" and s is not best]
        for other in sorted(same, key=lambda s: -s.unit_score):
            if len(picked) >= self.max_sentences or other.unit_score < floor:
                break
            if chunk_units[other.option.units[0]].text.endswith(":"):
                continue  # a list's lead-in without its list misleads ("... online shop: In the shop ...")
            picked.extend(i for i in other.option.units if i not in picked)
        out = [(hit, sorted(picked))]
        if len(picked) < self.max_sentences and self.max_sources > 1:
            # A chunk below the threshold may answer when it fits clearly better, but is no extra source.
            others = [
                s
                for s in scored
                if s.option.hit is not hit and s.option.kind == "sentence" and s.option.hit.score >= self.min_confidence
            ]
            if others:
                second = max(others, key=lambda s: s.total)
                texts = {units[second.option.hit.chunk.chunk_id][i].text for i in second.option.units}
                quoted = {chunk_units[i].text for i in picked}
                if second.total >= _SECOND_SOURCE_RATIO * best.total and not texts & quoted:
                    out.append((second.option.hit, list(second.option.units)))
        return out

    def _render(self, hit: RetrievedChunk, parts: list[Unit], q_terms: set[str] | None, first: bool) -> list[str]:
        """Lines of the reply: consecutive sentences form one line, list items one line each.
        `q_terms`: the terms of a yes/no question, None for any other question."""
        lines: list[str] = []
        prose: list[str] = []
        context = set(terms(hit.chunk.heading))
        for n, unit in enumerate(parts):
            text = unit.text
            if first and n == 0 and _YES_NO_LEAD.match(text):
                # Keep a leading "Yes." only when the section is about exactly what was asked:
                # "Do you sell groceries?" must not get "Yes. Gift cards are available ...".
                if not q_terms or not q_terms <= context | set(terms(text)):
                    text = _YES_NO_LEAD.sub("", text)
                    text = text[:1].upper() + text[1:]
            if unit.is_item:
                if prose:
                    lines.append(" ".join(prose))
                    prose = []
                lines.append(text)
            else:
                prose.append(text)
        if prose:
            lines.append(" ".join(prose))
        return lines
