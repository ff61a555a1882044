"""Facts the desk already knows from safedesk.yaml, offered as public knowledge when no page states them.

An owner who sets the hours in safedesk.yaml expects "When are you open?" to be answered, and the desk
already tells customers those hours when it hands them to a person. If no public page gives any opening
times, a public chunk built from the configured hours fills the gap (source "safedesk.yaml"). A shop's own
page always wins: once any public page states times, nothing is added, so two sources cannot disagree.
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
# "09:00-17:00", "9.00 – 17.00", "10:00 to 19:00": a page that states opening times.
_TIME_RANGE = re.compile(r"\b\d{1,2}[:.]\d{2}\s*(?:-|–|—|to|til|till|bis)\s*\d{1,2}[:.]\d{2}\b")


def states_opening_times(chunks: Sequence[KnowledgeChunk]) -> bool:
    return any(chunk.is_public and _TIME_RANGE.search(chunk.text) for chunk in chunks)


def hours_lines(business: BusinessConfig) -> list[str]:
    """One line per run of days with the same hours: 'Monday to Friday: 09:00-17:00'."""
    runs: list[tuple[str, str, str]] = []  # (first day, last day, hours)
    for day in WEEKDAYS:
        spans = [part.strip() for part in business.hours.get(day, "closed").split(",")]
        hours = " and ".join(spans)
        if runs and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], day, hours)
        else:
            runs.append((day, day, hours))
    return [
        f"{_DAY_NAMES[first]}{'' if first == last else ' to ' + _DAY_NAMES[last]}: {hours}"
        for first, last, hours in runs
    ]


def hours_chunk(business: BusinessConfig) -> KnowledgeChunk:
    items = "\n".join(f"- {line}" for line in hours_lines(business))
    text = f"We are open at these times ({business.timezone} time):\n{items}"
    return KnowledgeChunk(chunk_id_for(SOURCE, TITLE, 0), TITLE, TITLE, text, SOURCE, Access.PUBLIC)


def with_business_facts(chunks: Sequence[KnowledgeChunk], business: BusinessConfig) -> tuple[KnowledgeChunk, ...]:
    """The knowledge's chunks, plus the configured opening hours when no public page states any times."""
    if states_opening_times(chunks):
        return tuple(chunks)
    return (*chunks, hours_chunk(business))
