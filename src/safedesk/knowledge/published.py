"""Names the business published itself: a "name" a customer writes that is one of these is not personal data.

"Do you repair Bosch e-bikes?" reached retrieval as "Do you repair <PERSON_1>?" (the NER read the brand as a
person), so the page about Bosch repairs was never found. A name span is left unredacted only when:

- it has exactly one capitalised word, and the public pages use that word capitalised in mid-sentence (a
  proper noun there: "Bosch", "Strandgaten"), not only at the start of a sentence; and every other word of
  the span occurs on the public pages ("Bosch e-bikes": yes; "Ingrid hansen": "hansen" does not); or
- the whole span, as a phrase, is on the public pages or is the business's name ("Shimano Nordic").

So a customer's full name ("Ingrid Hansen") stays hidden even when "Ingrid" is a member of staff on the
about page and "Hansen" is in the shop's name. A lone first name that the pages publish ("Ingrid") is
left as it is: it names the shop's own staff as often as a customer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from safedesk.domain import KnowledgeChunk
from safedesk.knowledge.text import word_spans

_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n]\s*|[-*•]\s+)$")


def _phrase(text: str) -> str:
    """Words only, case-folded, single spaces, padded: ' shimano nordic '."""
    return " " + " ".join(w.casefold() for _, _, w in word_spans(text)) + " "


@dataclass(frozen=True, slots=True)
class PublishedNames:
    proper_nouns: frozenset[str] = frozenset()  # capitalised in mid-sentence on a public page, case-folded
    words: frozenset[str] = frozenset()  # every word of the public pages, case-folded
    text: str = " "  # the public pages and the business name as one phrase string (see `_phrase`)

    @classmethod
    def of(cls, chunks: Sequence[KnowledgeChunk], business_name: str = "") -> PublishedNames:
        proper = {w.casefold() for _, _, w in word_spans(business_name) if w[0].isupper()}
        words: set[str] = set()
        phrases = [_phrase(business_name)]
        for chunk in chunks:
            if not chunk.is_public:
                continue
            for text in (chunk.title, chunk.heading, chunk.text):
                phrases.append(_phrase(text))
                for start, _, word in word_spans(text):
                    words.add(word.casefold())
                    if word[0].isupper() and not _SENTENCE_START.search(text[max(0, start - 3) : start]):
                        proper.add(word.casefold())
        return cls(frozenset(proper), frozenset(words), "".join(phrases))

    def covers(self, name: str) -> bool:
        """Whether the span `name` (as the customer wrote it) is something the business published."""
        spans = word_spans(name)
        if not spans:
            return False
        if len(spans) > 1 and _phrase(name) in self.text:
            return True
        capitalised = [w.casefold() for _, _, w in spans if w[0].isupper()]
        others = [w.casefold() for _, _, w in spans if not w[0].isupper()]
        return len(capitalised) == 1 and capitalised[0] in self.proper_nouns and all(w in self.words for w in others)
