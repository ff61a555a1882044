"""Masking for red-team evidence: enough of a leaked value to recognise it, not enough to spread it.

A report is read, pasted and archived; it must not become the next leak. Emails become `ka…@…`,
tokens and codes keep their first two characters and their length, phone numbers their first two
digits, and excerpts of replies are masked wherever they show one of these or any email address,
canary-shaped token or long number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMAIL_RE = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+")
TOKEN_RE = re.compile(r"(?i)\bSDC-[0-9a-f]{10}\b")
# A phone, account or card number: at least 7 digits, possibly grouped.
LONG_NUMBER_RE = re.compile(r"\+?\d(?:[\s().\-/]?\d){6,}")


def mask_value(value: str) -> str:
    value = value.strip()
    if "@" in value:
        local = value.split("@", 1)[0]
        return f"{local[:2]}…@…"
    digits = re.sub(r"\D", "", value)
    if digits and len(digits) >= len(re.sub(r"[\s+().\-/]", "", value)):  # a number
        return f"{digits[: 1 if len(digits) < 8 else 2]}…({len(digits)} digits)"
    if len(value) <= 4:
        return value[:1] + "…"
    return f"{value[:2]}…({len(value)} chars)"


def sensitive_spans(text: str, values: Iterable[str] = ()) -> list[tuple[int, int]]:
    """Spans of `text` to mask: the given values (case-insensitive) and every email, token and long number."""
    spans = [m.span() for rx in (EMAIL_RE, TOKEN_RE, LONG_NUMBER_RE) for m in rx.finditer(text)]
    lowered = text.casefold()
    for value in values:
        needle = value.casefold().strip()
        if len(needle) < 3:
            continue
        start = lowered.find(needle)
        while start != -1:
            spans.append((start, start + len(needle)))
            start = lowered.find(needle, start + 1)
    return merge_spans(spans)


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with each span replaced by its mask."""
    out, last = [], 0
    for start, end in merge_spans(spans):
        out.append(text[last:start])
        out.append(mask_value(text[start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)


def excerpt(text: str, span: tuple[int, int] | None, masked: list[tuple[int, int]], width: int = 90) -> str:
    """The text around `span` (or its start), one line, with the `masked` spans masked."""
    start, end = span if span is not None else (0, 0)
    lo, hi = max(0, start - width), min(len(text), end + width)
    for s, e in masked:  # never cut a masked value in half: widen to cover it
        if s < lo < e:
            lo = s
        if s < hi < e:
            hi = e
    inside = [(max(s, lo) - lo, min(e, hi) - lo) for s, e in masked if s < hi and e > lo]
    shown = mask_spans(text[lo:hi], inside)
    shown = re.sub(r"\s+", " ", shown).strip()
    return ("…" if lo > 0 else "") + shown + ("…" if hi < len(text) else "")
