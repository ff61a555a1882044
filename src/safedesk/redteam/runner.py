"""Run probes against a target and judge them; `run_redteam` is what the CLI calls.

Each probe gets its own conversation. A target that fails mid-probe (time-out, HTTP error, an
exception in process) makes that probe an `error`, unless a reply before it already failed; the run
always goes on to the next probe.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from safedesk.errors import UserError
from safedesk.redteam.business import Business, load_business
from safedesk.redteam.judge import Judge
from safedesk.redteam.probes import DEFAULT_MAX_PER_CATEGORY, Category, Probe, build_probes
from safedesk.redteam.report import RedTeamReport
from safedesk.redteam.results import Exchange, Outcome, ProbeResult
from safedesk.redteam.targets import (
    InProcessTarget,
    Target,
    TargetError,
    TargetReply,
    http_target,
    sandboxed_desk,
)

Progress = Callable[[int, int, ProbeResult], None]


def run_probe(probe: Probe, target: Target, judge: Judge, conversation_id: str) -> ProbeResult:
    started = time.perf_counter()
    replies: list[TargetReply] = []
    error: str | None = None
    for text in probe.turns:
        try:
            replies.append(target.send(conversation_id, text))
        except Exception as exc:  # a broken target is a result, never the end of the run
            error = str(exc) if isinstance(exc, TargetError) else f"{type(exc).__name__}: {exc}"
            break
    evidence = judge.evaluate(probe, probe.turns, replies)
    if error is not None:  # what an error page leaks counts too, and the report never repeats it unmasked
        evidence = tuple(dict.fromkeys((*evidence, *judge.leaks_in_error(probe, len(replies) + 1, error))))
        error = judge.mask(error)
    transcript = tuple(
        Exchange(
            judge.mask(text),
            judge.mask(replies[i].text) if i < len(replies) else None,
            replies[i].lane if i < len(replies) else None,
            replies[i].held if i < len(replies) else None,
        )
        for i, text in enumerate(probe.turns[: len(replies) + (1 if error else 0)])
    )
    outcome = Outcome.FAIL if evidence else Outcome.ERROR if error else Outcome.PASS
    return ProbeResult(probe, outcome, evidence, transcript, error, time.perf_counter() - started)


def run_probes(
    probes: Sequence[Probe],
    target: Target,
    judge: Judge,
    *,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> list[ProbeResult]:
    run_id = run_id or secrets.token_hex(4)
    results = []
    for number, probe in enumerate(probes, start=1):
        result = run_probe(probe, target, judge, f"redteam-{run_id}-{probe.id}")
        results.append(result)
        if progress is not None:
            progress(number, len(probes), result)
    return results


def parse_categories(names: Iterable[str] | None) -> list[Category] | None:
    if not names:
        return None
    known = {c.value: c for c in Category}
    out = []
    for name in names:
        for part in name.split(","):
            part = part.strip().replace("-", "_")
            if part not in known:
                raise UserError(f"unknown category {part!r}; known: {', '.join(known)}")
            out.append(known[part])
    return list(dict.fromkeys(out))


def run_redteam(
    project_dir: Path | str,
    *,
    endpoint: str | None = None,
    text_field: str | None = None,
    reply_field: str | None = None,
    conversation_field: str | None = None,
    categories: Iterable[str] | None = None,
    max_per_category: int | None = DEFAULT_MAX_PER_CATEGORY,
    timeout: float = 30.0,
    llm_url: str | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
) -> RedTeamReport:
    """Build the business's probes, run them against the desk in process (default) or `endpoint`, and
    report. Bad input raises `UserError` before any probe runs."""
    wanted = parse_categories(categories)
    if max_per_category is not None and max_per_category < 0:
        raise UserError("--max-per-category must be 0 (all) or more")
    if endpoint is None:
        if text_field or reply_field or conversation_field:
            raise UserError("--text-field, --reply-field and --conversation-field need --endpoint")
        with sandboxed_desk(project_dir, llm_url) as desk:
            business = load_business(desk.project.root)
            described = f"{business.name} desk in process (on a temporary copy)"
            if llm_url is not None:
                described += f", answering with the model at {llm_url}"
            target = InProcessTarget(desk.pipeline, described)
            report = _run(business, target, wanted, max_per_category, seed, progress, in_process=True)
            model_warning = _model_warning(desk.pipeline.responder, llm_url)
            if model_warning:
                report = replace(report, warnings=(*report.warnings, model_warning))
            return report
    if llm_url is not None:
        raise UserError("--llm sets the model of the in-process desk; a served desk uses its own (drop --endpoint)")
    target_http = http_target(
        endpoint, text_field=text_field, reply_field=reply_field, conversation_field=conversation_field, timeout=timeout
    )
    try:
        business = load_business(project_dir)
        return _run(business, target_http, wanted, max_per_category, seed, progress, in_process=False)
    finally:
        target_http.close()


def _run(
    business: Business,
    target: Target,
    categories: list[Category] | None,
    max_per_category: int | None,
    seed: int | None,
    progress: Progress | None,
    *,
    in_process: bool,
) -> RedTeamReport:
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    probes = build_probes(business, categories=categories, max_per_category=max_per_category, seed=seed)
    results = run_probes(probes, target, Judge(business), progress=progress)
    return RedTeamReport(
        business=business.name,
        target=target.description,
        started_at=started_at.isoformat(timespec="seconds"),
        seconds=time.perf_counter() - t0,
        categories=tuple(categories or Category),
        results=tuple(results),
        warnings=tuple(_warnings(business, categories, in_process)),
    )


def _model_warning(responder: object, llm_url: str | None) -> str | None:
    """With --llm: say so when the model could not be reached, or the report would read as the model's."""
    failed = int(getattr(responder, "failed_calls", 0))
    if llm_url is None or not failed:
        return None
    answered = int(getattr(responder, "model_replies", 0))
    reason = getattr(responder, "last_failure", None) or "unknown"
    if not answered:
        return (
            f"the model at {llm_url} was never reached ({failed} calls failed; last: {reason}): the approved-answer "
            "fallback answered instead, so this report says nothing about the model"
        )
    return f"{failed} model calls to {llm_url} failed (last: {reason}); the approved-answer fallback answered those"


def _warnings(business: Business, categories: list[Category] | None, in_process: bool) -> list[str]:
    wanted = set(categories or Category)
    out = []
    if Category.INTERNAL_KNOWLEDGE in wanted and not business.protected:
        out.append("no internal or restricted knowledge files: no internal_knowledge probes")
    if Category.OTHER_CUSTOMERS in wanted and not business.customers:
        out.append("no customers.csv records: no other_customers probes")
    if not in_process and Category.ACCOUNT_TAKEOVER in wanted and business.customers:
        out.append(
            "account_takeover probes asked the live desk to verify real customers from customers.csv: it may have "
            "sent them one-time codes (run without --endpoint to attack a scratch copy instead)"
        )
    if not in_process and business.protected and not business.knowledge_canaries:
        out.append(
            f"no canary tokens in {business.root / 'data' / 'canaries.json'}: leaks of non-public knowledge are "
            "judged by verbatim text and codes only (the desk plants canaries when it first opens this directory)"
        )
    return out
