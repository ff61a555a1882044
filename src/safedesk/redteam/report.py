"""The red-team report: a summary per category and the failures with their evidence, as Markdown or JSON.

Everything in it is already masked (evidence, transcripts): a report can be shared without spreading
what leaked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from safedesk.redteam.probes import Category
from safedesk.redteam.results import Outcome, ProbeResult


@dataclass(frozen=True, slots=True)
class CategorySummary:
    category: str
    probes: int
    passed: int
    failed: int
    errors: int

    def to_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "probes": self.probes,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
        }


@dataclass(frozen=True, slots=True)
class RedTeamReport:
    business: str
    target: str
    started_at: str
    seconds: float
    categories: tuple[Category, ...]
    results: tuple[ProbeResult, ...]
    warnings: tuple[str, ...] = ()

    def summary(self) -> list[CategorySummary]:
        rows = []
        for category in self.categories:
            mine = [r for r in self.results if r.probe.category is category]
            rows.append(
                CategorySummary(
                    category.value,
                    len(mine),
                    sum(r.outcome is Outcome.PASS for r in mine),
                    sum(r.outcome is Outcome.FAIL for r in mine),
                    sum(r.outcome is Outcome.ERROR for r in mine),
                )
            )
        return rows

    def totals(self) -> CategorySummary:
        rows = self.summary()
        return CategorySummary(
            "total",
            sum(r.probes for r in rows),
            sum(r.passed for r in rows),
            sum(r.failed for r in rows),
            sum(r.errors for r in rows),
        )

    @property
    def all_passed(self) -> bool:
        return all(r.outcome is Outcome.PASS for r in self.results)

    def exit_code(self) -> int:
        """0 when every probe passed; 1 when any failed or could not be run."""
        return 0 if self.all_passed else 1

    def failures(self) -> list[ProbeResult]:
        return [r for r in self.results if r.outcome is Outcome.FAIL]

    def errors(self) -> list[ProbeResult]:
        return [r for r in self.results if r.outcome is Outcome.ERROR]

    def one_line(self) -> str:
        t = self.totals()
        return f"red team: {t.probes} probes, {t.passed} passed, {t.failed} failed, {t.errors} errors"


def to_json(report: RedTeamReport) -> dict[str, Any]:
    return {
        "business": report.business,
        "target": report.target,
        "started_at": report.started_at,
        "seconds": round(report.seconds, 3),
        "ok": report.all_passed,
        "summary": {
            "total": report.totals().to_dict(),
            "categories": [row.to_dict() for row in report.summary()],
        },
        "warnings": list(report.warnings),
        "results": [r.to_dict() for r in report.results],
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: RedTeamReport) -> str:
    t = report.totals()
    verdict = "all probes passed" if report.all_passed else f"{t.failed} failed, {t.errors} errors"
    lines = [
        f"# Red team report: {report.business}",
        "",
        f"- Target: {report.target}",
        f"- Started: {report.started_at} ({report.seconds:.1f} s)",
        f"- Result: **{verdict}** ({t.passed} of {t.probes} passed)",
        "",
        "| Category | Probes | Passed | Failed | Errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in [*report.summary(), t]:
        name = f"**{row.category}**" if row.category == "total" else row.category
        lines.append(f"| {name} | {row.probes} | {row.passed} | {row.failed} | {row.errors} |")
    if report.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in report.warnings]
    failures = report.failures()
    if failures:
        lines += ["", "## Failures"]
        for r in failures:
            lines += ["", f"### {r.probe.id}: {r.probe.title}", ""]
            for number, x in enumerate(r.transcript, start=1):
                lines.append(f"{number}. Sent: {_quote(x.sent)}")
                if x.reply is not None:
                    meta = ", ".join(p for p in (f"lane {x.lane}" if x.lane else "", "held" if x.held else "") if p)
                    lines.append(f"   Reply{f' ({meta})' if meta else ''}: {_quote(x.reply)}")
            lines.append("")
            for e in r.evidence:
                lines.append(f"- **{e.detector}** (reply {e.turn}): {_cell(e.detail)}")
                if e.excerpt:
                    lines.append(f"  > {_cell(e.excerpt)}")
    errors = report.errors()
    if errors:
        lines += ["", "## Errors", ""]
        lines += [f"- {r.probe.id} ({r.probe.title}): {_cell(r.error or 'unknown error')}" for r in errors]
    return "\n".join(lines) + "\n"


def _quote(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"“{text}”"
