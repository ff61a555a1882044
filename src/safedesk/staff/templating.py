"""Jinja2 rendering for the staff app (autoescaped; templates in staff/templates/staff/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from safedesk.staff.accounts import as_utc

# Short notices shown after a redirect (?done=code). Only these fixed texts can appear: a crafted
# link cannot put words on a staff page.
NOTICES = {
    "replied": "Reply sent to the customer.",
    "approved": "Draft approved and sent.",
    "edited": "Edited reply sent.",
    "rejected": "Draft rejected.",
    "assigned": "Assigned to you.",
    "closed": "Closed.",
    "reviewed": "Review saved.",
    "saved": "File saved and knowledge re-read.",
    "refreshed": "Knowledge re-read.",
    "unchanged": "Knowledge is up to date (no file changed).",
    "user-added": "User added.",
    "disabled": "User disabled and signed out everywhere.",
    "enabled": "User enabled.",
    "password": "Password changed; the user's sessions were ended.",
    "signed-out": "You are signed out.",
}


def _when(value: datetime | None) -> str:
    value = as_utc(value)
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _url_id(value: str) -> str:
    return quote(str(value), safe="")


_env = Environment(
    loader=PackageLoader("safedesk.staff", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = _when
_env.filters["url_id"] = _url_id
_env.globals["NOTICES"] = NOTICES


def render_text(template: str, /, **context: Any) -> str:
    return _env.get_template(f"staff/{template}").render(**context)


def render(request: Request, template: str, /, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("staff", getattr(request.state, "staff", None))
    context.setdefault("notice", NOTICES.get(request.query_params.get("done", ""), ""))
    context.setdefault("business", _business_name(request))
    context.setdefault("nav", "")
    context.setdefault("counts", None)
    return HTMLResponse(render_text(template, **context), status_code=status_code)


def _business_name(request: Request) -> str:
    desk = getattr(request.app.state, "desk", None)
    try:
        return str(desk.config.business.name) if desk is not None else "SafeDesk"
    except AttributeError:
        return "SafeDesk"
