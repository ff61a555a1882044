"""The staff app's tool pages under /staff: the scam second opinion, the redactor for outside AI
tools, and the red team (owners only).

Same rules as `routes.py`: server-rendered, no inline script, every POST CSRF-checked through
`require_action`, every route authorised by role. The tools store nothing; what is audited holds
counts and verdicts only, never the pasted text.

The redactor's mapping (original -> placeholder) is never stored on the server and never readable in
the browser: it travels in a hidden form field as a vault-encrypted token (Fernet: encrypted and
authenticated) that also names the signed-in user and the time it was made. `POST /staff/tools/restore`
refuses a token that does not decrypt (tampered, another desk's), was made for another user, or is
older than `REDACT_TOKEN_TTL`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from safedesk import audit
from safedesk.errors import UserError
from safedesk.staff.auth import StaffContext, StaffRoute, get_desk, require, require_action
from safedesk.staff.inbox import clean_staff_text
from safedesk.staff.templating import render
from safedesk.storage.models import AuditEvent
from safedesk.vault import VaultError

tools_router = APIRouter(prefix="/staff", route_class=StaffRoute, include_in_schema=False)

# Who may use what (see accounts.PERMISSIONS): the scam check and the redactor are for every staff
# role ("inbox" is every role's permission); the red team is for owners ("redteam").
TOOLS_PERMISSION = "inbox"
REDTEAM_PERMISSION = "redteam"

# Text limits, in characters. A whole email with its headers fits the scam check; the redactor takes
# what one would paste into an outside AI tool. Both stay well under the web app's request-size limit
# (limits.max_request_bytes, 64 kB by default) even when form-encoded.
MAX_SCAM_CHARS = 16_000
MAX_REDACT_CHARS = 8_000
MAX_TOKEN_CHARS = 40_000  # the encrypted mapping of MAX_REDACT_CHARS of text fits easily
_FORM_SLACK = 4  # the form accepts more, so that too-long text gets a clear message instead of a 400

REDACT_TOKEN_TTL = timedelta(hours=2)
_REDACT_PURPOSE = "safedesk.staff.redact/1"
_PLACEHOLDER = re.compile(r"^<[A-Z][A-Z0-9_]{0,40}_\d{1,6}>$")

PII_LABELS = {
    "PERSON": "name",
    "EMAIL_ADDRESS": "email address",
    "PHONE_NUMBER": "phone number",
    "ADDRESS": "address",
    "LOCATION": "place",
    "CREDIT_CARD": "card number",
    "IBAN_CODE": "bank account",
    "ORDER_NUMBER": "order number",
    "IP_ADDRESS": "IP address",
}


def _now() -> float:
    """The current time in seconds (a function, so tests can move the clock)."""
    return time.time()


# ---- scam second opinion ----------------------------------------------------------------------


def own_domains(config: Any) -> tuple[str, ...]:
    """The business's own domains, from its contact address and its mail sender: look-alikes of
    these are flagged by the scam check."""
    addresses = [config.business.contact_email, config.verification.smtp.sender]
    domains = []
    for address in addresses:
        domain = (address or "").rpartition("@")[2].strip().lower().rstrip(".")
        if "." in domain and domain not in domains:
            domains.append(domain)
    return tuple(domains)


def _scam_page(request: Request, *, status: int = 200, **context: Any) -> Response:
    context.setdefault("text", "")
    context.setdefault("result", None)
    context.setdefault("error", "")
    return render(request, "tools_scam.html", status_code=status, nav="scam", max_chars=MAX_SCAM_CHARS, **context)


@tools_router.get("/tools/scam")
def scam_page(request: Request, staff: Annotated[StaffContext, Depends(require(TOOLS_PERMISSION))]) -> Response:
    return _scam_page(request)


@tools_router.post("/tools/scam")
def scam_check(
    request: Request,
    staff: Annotated[StaffContext, Depends(require_action(TOOLS_PERMISSION))],
    text: Annotated[str, Form(max_length=MAX_SCAM_CHARS * _FORM_SLACK)] = "",
) -> Response:
    from safedesk.staff_tools.scam import assess

    desk = get_desk(request)
    try:
        cleaned = clean_staff_text(text, "message", MAX_SCAM_CHARS)
    except UserError as exc:
        return _scam_page(request, status=400, error=str(exc), text=text[:MAX_SCAM_CHARS])
    result = assess(cleaned, own_domains=own_domains(desk.config))
    with desk.db.session() as session:
        audit.append(
            session, "staff.scam_check", actor=staff.username, data={"verdict": result.verdict, "chars": len(cleaned)}
        )
    return _scam_page(request, text=cleaned, result=result)


# ---- redactor ---------------------------------------------------------------------------------


class RedactTokenError(UserError):
    """The hidden mapping token cannot be used: damaged, expired, or made for someone else."""


def make_redact_token(vault: Any, staff: StaffContext, mapping: dict[str, str], *, now: float | None = None) -> str:
    """The mapping, encrypted with the desk's vault, bound to `staff` and stamped with the time."""
    payload = {
        "purpose": _REDACT_PURPOSE,
        "user": staff.username,
        "user_id": staff.user_id,
        "made": int(_now() if now is None else now),
        "mapping": mapping,
    }
    return str(vault.encrypt(json.dumps(payload, ensure_ascii=False, separators=(",", ":"))))


def read_redact_token(vault: Any, staff: StaffContext, token: str, *, now: float | None = None) -> dict[str, str]:
    """The mapping in `token`, or RedactTokenError (nothing of it is used then)."""
    again = "Redact the text again to get a new one."
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise RedactTokenError(f"The redaction key is missing or damaged. {again}")
    try:
        payload = json.loads(vault.decrypt(token.strip()))
    except (VaultError, ValueError):
        raise RedactTokenError(f"The redaction key is damaged (it does not decrypt). {again}") from None
    if not isinstance(payload, dict) or payload.get("purpose") != _REDACT_PURPOSE:
        raise RedactTokenError(f"This is not a redaction key. {again}")
    if payload.get("user") != staff.username or payload.get("user_id") != staff.user_id:
        raise RedactTokenError(f"This redaction key was made by another user; only they can restore with it. {again}")
    made = payload.get("made")
    current = _now() if now is None else now
    if not isinstance(made, int) or made > current + 60:
        raise RedactTokenError(f"The redaction key is damaged. {again}")
    if current - made > REDACT_TOKEN_TTL.total_seconds():
        hours = REDACT_TOKEN_TTL.total_seconds() / 3600
        raise RedactTokenError(f"The redaction key has expired (it is valid for {hours:g} hours). {again}")
    mapping = payload.get("mapping")
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _PLACEHOLDER.match(v) for k, v in mapping.items()
    ):
        raise RedactTokenError(f"The redaction key is damaged. {again}")
    return mapping


def _pii_guard(desk: Any) -> Any | None:
    """The desk's own PII guard (its regions and order-number pattern), or None for the default one."""
    from safedesk.guards.pii import PiiGuard

    pipeline = getattr(desk, "pipeline", None)
    return next((g for g in getattr(pipeline, "inbound", None) or () if isinstance(g, PiiGuard)), None)


def _found(counts: dict[str, int]) -> list[str]:
    return [
        f"{n} {_plural(PII_LABELS.get(kind, kind.lower().replace('_', ' ')), n)}"
        for kind, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _plural(label: str, n: int) -> str:
    """ "2 email addresses", "2 names": English plurals of the PII labels."""
    if n == 1:
        return label
    return label + ("es" if label.endswith(("s", "x", "sh", "ch")) else "s")


def _redact_page(request: Request, *, status: int = 200, **context: Any) -> Response:
    for name, value in (("text", ""), ("redacted", None), ("found", []), ("token", ""), ("answer", "")):
        context.setdefault(name, value)
    context.setdefault("restored", None)
    context.setdefault("error", "")
    context.setdefault("restore_error", "")
    hours = REDACT_TOKEN_TTL.total_seconds() / 3600
    return render(
        request,
        "tools_redact.html",
        status_code=status,
        nav="redact",
        max_chars=MAX_REDACT_CHARS,
        ttl_hours=f"{hours:g}",
        **context,
    )


@tools_router.get("/tools/redact")
def redact_page(request: Request, staff: Annotated[StaffContext, Depends(require(TOOLS_PERMISSION))]) -> Response:
    return _redact_page(request)


@tools_router.post("/tools/redact")
def redact(
    request: Request,
    staff: Annotated[StaffContext, Depends(require_action(TOOLS_PERMISSION))],
    text: Annotated[str, Form(max_length=MAX_REDACT_CHARS * _FORM_SLACK)] = "",
) -> Response:
    from safedesk.staff_tools.redactor import redact_for_outside_ai

    desk = get_desk(request)
    try:
        cleaned = clean_staff_text(text, "text", MAX_REDACT_CHARS)
    except UserError as exc:
        return _redact_page(request, status=400, error=str(exc), text=text[:MAX_REDACT_CHARS])
    result = redact_for_outside_ai(cleaned, _pii_guard(desk))
    token = make_redact_token(desk.vault, staff, result.mapping)
    with desk.db.session() as session:
        audit.append(
            session, "staff.redact", actor=staff.username, data={"chars": len(cleaned), "found": result.counts}
        )
    # The original text is not echoed: after this, only placeholders and the encrypted key are on the page.
    return _redact_page(request, redacted=result.redacted, found=_found(result.counts), token=token)


@tools_router.post("/tools/restore")
def restore(
    request: Request,
    staff: Annotated[StaffContext, Depends(require_action(TOOLS_PERMISSION))],
    answer: Annotated[str, Form(max_length=MAX_REDACT_CHARS * _FORM_SLACK)] = "",
    token: Annotated[str, Form(max_length=MAX_TOKEN_CHARS * 2)] = "",
) -> Response:
    from safedesk.staff_tools.redactor import restore_counted

    desk = get_desk(request)
    try:
        mapping = read_redact_token(desk.vault, staff, token)
    except RedactTokenError as exc:  # nothing is restored; the (broken) key is not handed back either
        return _redact_page(request, status=400, restore_error=str(exc), answer=answer[:MAX_REDACT_CHARS])
    try:
        cleaned = clean_staff_text(answer, "answer", MAX_REDACT_CHARS)
    except UserError as exc:
        return _redact_page(request, status=400, restore_error=str(exc), token=token, answer=answer[:MAX_REDACT_CHARS])
    restored, used = restore_counted(cleaned, mapping)
    with desk.db.session() as session:
        audit.append(session, "staff.restore", actor=staff.username, data={"chars": len(cleaned), "restored": used})
    return _redact_page(request, restored=restored, restored_count=used, token=token)


# ---- red team (owners) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Run:
    by: str
    since: str


_redteam_lock = threading.Lock()  # one run at a time in this process
_redteam_running: list[_Run] = []


def redteam_busy() -> _Run | None:
    """The run going on in this process, if any."""
    return _redteam_running[0] if _redteam_lock.locked() and _redteam_running else None


def _last_run(desk: Any) -> dict[str, Any] | None:
    with desk.db.session() as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.kind == "staff.redteam").order_by(AuditEvent.id.desc()).limit(1)
        ).scalar_one_or_none()
        if event is None:
            return None
        try:
            data = json.loads(event.data) if isinstance(event.data, str) else dict(event.data or {})
        except ValueError:
            data = {}
        return {"ts": event.ts, "actor": event.actor, "data": data}


def _redteam_page(request: Request, *, status: int = 200, **context: Any) -> Response:
    from safedesk.redteam.probes import DEFAULT_MAX_PER_CATEGORY, Category

    desk = get_desk(request)
    context.setdefault("report", None)
    context.setdefault("error", "")
    context.setdefault("limit", DEFAULT_MAX_PER_CATEGORY)
    return render(
        request,
        "redteam.html",
        status_code=status,
        nav="redteam",
        categories=[c.value for c in Category],
        busy=redteam_busy(),
        last=_last_run(desk),
        **context,
    )


def _parse_limit(value: str) -> int:
    from safedesk.redteam.probes import DEFAULT_MAX_PER_CATEGORY

    value = (value or "").strip()
    if not value:
        return DEFAULT_MAX_PER_CATEGORY
    if not re.fullmatch(r"[0-9]{1,4}", value) or int(value) > 1000:
        raise UserError("Probes per category must be a whole number from 0 (all of them) to 1000.")
    return int(value)


@dataclass(frozen=True, slots=True)
class _ReportView:
    """What the red-team page shows of a report (all of it already masked by the red team)."""

    business: str
    target: str
    started_at: str
    seconds: float
    ok: bool
    summary: list[Any]
    totals: Any
    failures: list[Any]
    errors: list[Any]
    warnings: tuple[str, ...]


def _view(report: Any) -> _ReportView:
    return _ReportView(
        business=report.business,
        target=report.target,
        started_at=report.started_at,
        seconds=report.seconds,
        ok=report.all_passed,
        summary=report.summary(),
        totals=report.totals(),
        failures=report.failures(),
        errors=report.errors(),
        warnings=tuple(report.warnings),
    )


def _summary_counts(rows: Iterable[Any], totals: Any) -> dict[str, Any]:
    return {
        "probes": totals.probes,
        "passed": totals.passed,
        "failed": totals.failed,
        "errors": totals.errors,
        "categories": {r.category: {"probes": r.probes, "failed": r.failed, "errors": r.errors} for r in rows},
    }


@tools_router.get("/redteam")
def redteam_page(request: Request, staff: Annotated[StaffContext, Depends(require(REDTEAM_PERMISSION))]) -> Response:
    return _redteam_page(request)


@tools_router.post("/redteam")
def redteam_run(
    request: Request,
    staff: Annotated[StaffContext, Depends(require_action(REDTEAM_PERMISSION))],
    max_per_category: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Run the red team in process on a scratch copy of the business directory (a sync route: FastAPI
    runs it in its threadpool, so the server keeps answering meanwhile)."""
    from safedesk.redteam.runner import run_redteam

    desk = get_desk(request)
    try:
        limit = _parse_limit(max_per_category)
    except UserError as exc:
        return _redteam_page(request, status=400, error=str(exc), limit=max_per_category[:10])
    if not _redteam_lock.acquire(blocking=False):
        busy = redteam_busy()
        who = f" (started by {busy.by} at {busy.since})" if busy else ""
        return _redteam_page(
            request,
            status=409,
            error=f"A red-team run is already going{who}. Wait for it to finish, then reload this page.",
            limit=limit,
        )
    try:
        _redteam_running[:] = [_Run(staff.username, datetime.now(UTC).strftime("%H:%M:%S UTC"))]
        try:
            report = run_redteam(desk.project.root, max_per_category=limit)
        except UserError as exc:
            return _redteam_page(request, status=400, error=f"The red team could not run: {exc}", limit=limit)
    finally:
        _redteam_running.clear()
        _redteam_lock.release()
    view = _view(report)
    data = _summary_counts(view.summary, view.totals)
    data.update({"max_per_category": limit, "seconds": round(report.seconds, 1)})
    with desk.db.session() as session:
        audit.append(session, "staff.redteam", actor=staff.username, data=data)
    return _redteam_page(request, report=view, limit=limit)
