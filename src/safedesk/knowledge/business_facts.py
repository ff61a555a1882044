"""Facts the desk already knows from safedesk.yaml, offered as public knowledge when no page states them.

An owner who sets the hours in safedesk.yaml expects "When are you open?" to be answered, and the desk
already tells customers those hours (when staff are in) when it hands them to a person. If the owner set
them and no public page gives any times or talks about opening hours, a public chunk built from them fills
the gap (source "safedesk.yaml"). A shop's own page always wins, so two sources cannot disagree; the
built-in default hours are never published.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from safedesk.config import WEEKDAYS, BusinessConfig
from safedesk.domain import Access, KnowledgeChunk
from safedesk.knowledge.ingest import chunk_id_for

SOURCE = "safedesk.yaml"
TITLE = "Opening hours"
_DAY_NAMES = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)
# A page that states opening times ("09:00-17:00", "9.00 - 17.00", "10am-6pm", "kl. 10-18", "open Monday to
# Saturday 10-18") or talks about opening hours at all: then the page, not the config, is what customers get.
# A bare "2-4" is not enough: delivery days and sizes look the same.
_DASH = r"\s*(?:-|–|—|to|til|till|bis)\s*"
_OPENING_TIMES = re.compile(
    rf"\b\d{{1,2}}[:.]\d{{2}}\s*(?:am|pm)?{_DASH}\d{{1,2}}"
    rf"|\b\d{{1,2}}\s*(?:am|pm){_DASH}\d{{1,2}}\s*(?:am|pm)"
    rf"|\b(?:kl|klokken|klockan)\.?\s*\d{{1,2}}{_DASH}\d{{1,2}}\b"
    rf"|\b(?:open|opens|åpen|åpent|öppet|åbent|geöffnet|ouvert|abierto)\b[^.\n]{{0,40}}?\b\d{{1,2}}{_DASH}\d{{1,2}}\b"
    r"|\b(?:opening\s+(?:hours|times)|open\s+hours|business\s+hours|åpningstid\w*|öppettid\w*|åbningstid\w*|"
    r"öffnungszeit\w*|horaires?|horario\w*)\b",
    re.IGNORECASE,
)


def states_opening_times(chunks: Sequence[KnowledgeChunk]) -> bool:
    return any(chunk.is_public and _OPENING_TIMES.search(f"{chunk.heading}\n{chunk.text}") for chunk in chunks)


def hours_lines(business: BusinessConfig) -> list[str]:
    """One line per run of days with the same hours: 'Monday to Friday: 09:00-17:00'."""
    return [
        f"{_DAY_NAMES[first]}{'' if first == last else ' to ' + _DAY_NAMES[last]}: {' and '.join(spans)}"
        for first, last, spans in business.hours_runs()
    ]


def hours_chunk(business: BusinessConfig) -> KnowledgeChunk:
    items = "\n".join(f"- {line}" for line in hours_lines(business))
    text = f"Our staff are available at these times ({business.timezone} time):\n{items}"
    return KnowledgeChunk(chunk_id_for(SOURCE, TITLE, 0), TITLE, TITLE, text, SOURCE, Access.PUBLIC)


def with_business_facts(chunks: Sequence[KnowledgeChunk], business: BusinessConfig) -> tuple[KnowledgeChunk, ...]:
    """The knowledge's chunks, plus the hours the owner set in safedesk.yaml when no public page states any
    (the built-in default hours are never published: the owner did not write them)."""
    if "hours" not in business.model_fields_set or states_opening_times(chunks):
        return tuple(chunks)
    return (*chunks, hours_chunk(business))
