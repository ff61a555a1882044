"""`safedesk scan`: the inbound analysis of one message, without a reply or any stored state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from safedesk.domain import Stage
from safedesk.guards.base import GuardContext
from safedesk.pipeline import clean_text
from safedesk.policy import decide

if TYPE_CHECKING:
    from safedesk.desk import Desk


def scan_text(desk: Desk, item_id: str, text: str, *, explain: bool = False) -> dict[str, Any]:
    # A NUL becomes a space, not nothing: the "pii" offsets must point into the text as the caller sent it.
    text = clean_text(text.replace("\x00", " "))
    ctx = GuardContext(conversation_id=f"scan-{item_id}", stage=Stage.INBOUND, business_name=desk.config.business.name)
    findings = []
    injection_score = 0.0
    for guard in desk.pipeline.inbound:
        findings.extend(guard.check(text, ctx))
        analyze = getattr(guard, "analyze_injection", None)
        if callable(analyze):
            injection_score = max(injection_score, float(analyze(text).score))
    flagged = any(f.kind == "injection" for f in findings)
    if flagged:
        injection_score = max(injection_score, *(f.score for f in findings if f.kind == "injection"))
    decision = decide(findings, text, desk.config.policy)
    pii = [f for f in findings if f.kind == "pii" and f.span is not None]
    redacted, _ = desk.pipeline.pseudonymizer.pseudonymize(
        text, [(f.label or "PII", f.span[0], f.span[1]) for f in pii if f.span], {}
    )
    out: dict[str, Any] = {
        "id": item_id,
        "lane": decision.lane.value,
        "topic": decision.topic.value,
        "injection": round(min(1.0, max(0.0, injection_score)), 4),
        "flagged": flagged,
        "pii": [
            {"type": f.label, "start": f.span[0], "end": f.span[1], "score": round(f.score, 4)} for f in pii if f.span
        ],
        "redacted": redacted,
    }
    if explain:
        out["explain"] = [f"{f.guard}: {f.kind}/{f.label} ({f.score:.2f}) {f.reason}" for f in findings] + [
            f"policy: {r}" for r in decision.reasons
        ]
    return out
