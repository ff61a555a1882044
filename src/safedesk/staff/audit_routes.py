"""The audit log page, for owners: the newest events first (filter by kind, page back), and a check of the
hash chain, the same check as `safedesk audit verify`. Events hold ids and counts, never message text."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from safedesk import audit
from safedesk.staff.auth import StaffContext, StaffRoute, get_desk, require, require_action
from safedesk.staff.templating import render
from safedesk.storage.models import MAX_ROW_ID

audit_router = APIRouter(prefix="/staff", route_class=StaffRoute, include_in_schema=False)
PAGE_SIZE = 100
KINDS = ("turn.", "staff.", "verification.", "redteam.", "knowledge.")  # filter shortcuts


@audit_router.get("/audit")
def audit_page(
    request: Request,
    staff: Annotated[StaffContext, Depends(require("audit"))],
    kind: str = "",
    before: int | None = None,
) -> Response:
    return _page(request, kind, before, None)


@audit_router.post("/audit/check")
def audit_check(
    request: Request,
    staff: Annotated[StaffContext, Depends(require_action("audit"))],
    kind: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    """Walk the whole chain (a POST with the form's token: it writes an audit event and takes a while)."""
    desk = get_desk(request)
    with desk.db.session() as session:
        report = audit.verify(session)
        audit.append(session, "staff.audit_checked", actor=staff.username,
                     data={"ok": report.ok, "events": report.events})  # fmt: skip
    return _page(request, kind, None, report)


def _page(request: Request, kind: str, before: int | None, report: audit.ChainReport | None) -> Response:
    desk = get_desk(request)
    kind = kind.strip()[:60]
    if before is not None and not 0 < before <= MAX_ROW_ID:
        before = None
    with desk.db.session() as session:
        events = audit.recent_events(session, before=before, kind_prefix=kind, limit=PAGE_SIZE)
        rows = [
            {"id": e.id, "ts": e.ts, "kind": e.kind, "conversation": e.conversation_id, "actor": e.actor,
             "data": _compact(e.data)}
            for e in events
        ]  # fmt: skip
    older = rows[-1]["id"] if len(rows) == PAGE_SIZE else None
    return render(request, "audit.html", nav="audit", rows=rows, kind=kind, kinds=KINDS, older=older, report=report)


def _compact(data: str, limit: int = 300) -> str:
    try:
        text = json.dumps(json.loads(data), ensure_ascii=False, separators=(", ", ": "))
    except ValueError:
        text = data
    return text if len(text) <= limit else text[: limit - 1] + "…"
