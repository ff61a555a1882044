"""Staff tool: pseudonymise a text before pasting it into an outside AI, and restore the answer.

    result = redact_for_outside_ai("Kari Nordmann (kari@example.com) asks about order #A-12345", guard)
    result.redacted   -> "<PERSON_1> (<EMAIL_1>) asks about order #<ORDER_1>"
    restore(answer_from_outside_ai, result.mapping)   -> the answer with the real values back

The mapping (original -> placeholder) is what lets `restore` work: keep it with the staff member's
session, never send it to the outside AI. Passing the previous mapping back in keeps placeholders
stable over several pastes of one case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from safedesk.redaction import PiiSpan, Pseudonymizer, restore, restore_counted

__all__ = ["PiiAnalyzer", "RedactionResult", "redact_for_outside_ai", "restore", "restore_counted"]


class PiiAnalyzer(Protocol):
    """Anything with `analyze(text) -> spans`, such as `safedesk.guards.pii.PiiGuard`."""

    def analyze(self, text: str) -> Sequence[PiiSpan]: ...


@dataclass(frozen=True, slots=True)
class RedactionResult:
    redacted: str
    mapping: dict[str, str] = field(default_factory=dict)  # original -> placeholder
    spans: tuple[PiiSpan, ...] = ()  # what was found, in the original text

    @property
    def counts(self) -> dict[str, int]:
        """How many values of each type were hidden (for the staff UI: "2 names, 1 phone number")."""
        out: dict[str, int] = {}
        for span in self.spans:
            out[span.type] = out.get(span.type, 0) + 1
        return out


_default_guard: PiiAnalyzer | None = None


def _guard() -> PiiAnalyzer:
    global _default_guard
    if _default_guard is None:
        from safedesk.guards.pii import PiiGuard

        _default_guard = PiiGuard("staff-redactor")
    return _default_guard


def redact_for_outside_ai(
    text: str, guard: PiiAnalyzer | None = None, mapping: Mapping[str, str] | None = None
) -> RedactionResult:
    """Replace the personal data in `text` with placeholders (stable given `mapping`)."""
    spans = tuple((guard or _guard()).analyze(text))
    redaction = Pseudonymizer().redact(text, spans, mapping)
    return RedactionResult(redacted=redaction.text, mapping=redaction.mapping, spans=spans)
