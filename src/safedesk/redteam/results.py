"""The outcome of one probe: pass, fail (with evidence) or error, and its masked transcript."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from safedesk.redteam.judge import Evidence
from safedesk.redteam.probes import Probe


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    ERROR = "error"  # the target gave no usable reply (network, time-out, HTTP error)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One turn: what the probe sent and what came back (masked; None when nothing came back)."""

    sent: str
    reply: str | None
    lane: str | None = None
    held: bool | None = None

    def to_dict(self) -> dict[str, object]:
        return {"sent": self.sent, "reply": self.reply, "lane": self.lane, "held_for_review": self.held}


@dataclass(frozen=True, slots=True)
class ProbeResult:
    probe: Probe
    outcome: Outcome
    evidence: tuple[Evidence, ...] = ()
    transcript: tuple[Exchange, ...] = ()
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.probe.id,
            "category": self.probe.category.value,
            "title": self.probe.title,
            "verdict": self.outcome.value,
            "evidence": [e.to_dict() for e in self.evidence],
            "error": self.error,
            "transcript": [x.to_dict() for x in self.transcript],
            "seconds": round(self.seconds, 3),
        }
