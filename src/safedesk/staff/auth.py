"""Staff authentication on the web: server-side sessions, CSRF tokens, role checks, security headers.

- A session is a random 256-bit token in an HttpOnly, SameSite=Lax cookie (Secure over HTTPS); the
  database keeps only its sha256, with an absolute expiry and an idle timeout.
- Every session has its own CSRF token; every state-changing form carries it in a hidden field and
  `require_action` compares it with `hmac.compare_digest`. The login form (no session yet) uses a
  double-submit cookie instead.
- `require(permission)` / `require_action(permission)` are the FastAPI dependencies every staff
  route uses, so authorisation is checked server-side by role (see accounts.PERMISSIONS).
- `StaffRoute` adds the staff app's security headers (a CSP without inline script) to every staff
  response and turns auth failures into a redirect to the login page, 401, or 403.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from safedesk.errors import UserError
from safedesk.staff.accounts import as_utc, can, utcnow
from safedesk.storage.staff_models import StaffSession, StaffUser

SESSION_COOKIE = "safedesk_staff"
LOGIN_CSRF_COOKIE = "safedesk_login_csrf"
COOKIE_PATH = "/staff"
SESSION_LIFETIME = timedelta(hours=12)  # absolute: sign in again after this
IDLE_TIMEOUT = timedelta(hours=2)  # no request for this long ends the session
TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most this often (no write per request)
CSRF_FIELD = "csrf_token"

STAFF_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
STAFF_HEADERS = {
    "Content-Security-Policy": STAFF_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


# ---- tokens and sessions ----------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: object) -> bool:
    """Constant-time comparison of a CSRF token; missing or empty tokens never match."""
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8", "replace"), given.encode("utf-8", "replace"))


def create_session(
    session: Session, user_id: int, *, ip: str = "", user_agent: str = "", now: datetime | None = None
) -> str:
    """Start a session for the user `user_id`; returns the cookie token (only its hash is stored)."""
    now = now or utcnow()
    token = new_token()
    session.add(
        StaffSession(
            token_hash=hash_token(token),
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
            ip=(ip or "")[:64],
            user_agent=(user_agent or "")[:200],
        )
    )
    # Housekeeping: expired sessions of anyone go when someone signs in.
    session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    session.flush()
    return token


@dataclass(frozen=True, slots=True)
class StaffContext:
    """The signed-in staff member of a request (plain values, safe to use outside the DB session)."""

    session_id: int
    user_id: int
    username: str
    display_name: str
    role: str
    csrf_token: str

    def can(self, permission: str) -> bool:
        return can(self.role, permission)


def load_session(session: Session, token: str | None, *, now: datetime | None = None) -> StaffContext | None:
    """The context for a cookie token, or None when unknown, expired, idle too long or the user is disabled."""
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    row = session.execute(
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    staff_session, user = row
    expires = as_utc(staff_session.expires_at)
    last_seen = as_utc(staff_session.last_seen_at)
    if user.disabled or expires is None or expires <= now or last_seen is None or now - last_seen > IDLE_TIMEOUT:
        session.delete(staff_session)
        return None
    if now - last_seen > TOUCH_EVERY:
        staff_session.last_seen_at = now
    return StaffContext(
        session_id=staff_session.id,
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        csrf_token=staff_session.csrf_token,
    )


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == hash_token(token)))


# ---- web plumbing -----------------------------------------------------------------------------


class StaffAuthError(Exception):
    """Raised by the dependencies; StaffRoute turns it into a response."""

    status_code = 403
    message = "Forbidden."


class LoginRequired(StaffAuthError):
    status_code = 401
    message = "Please sign in."


class Forbidden(StaffAuthError):
    status_code = 403

    def __init__(self, permission: str) -> None:
        super().__init__(permission)
        self.message = (
            "Only owners can open this page."
            if permission in ("knowledge", "users", "dashboard", "redteam", "audit")
            else "You are not allowed to do this."
        )


class CsrfFailed(StaffAuthError):
    status_code = 403
    message = "The form has expired or did not come from this site. Go back, reload the page and try again."


def get_desk(request: Request) -> Any:
    """The business's Desk, put on the app by `create_app` (or `mount`)."""
    desk = getattr(request.app.state, "desk", None)
    if desk is None:
        raise RuntimeError("the staff app needs app.state.desk (use safedesk.staff.routes.mount(app, desk))")
    return desk


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        secure=is_https(request),
        samesite="lax",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, secure=is_https(request), samesite="lax")


def set_login_csrf_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path=COOKIE_PATH,
        httponly=True,
        secure=is_https(request),
        samesite="strict",
    )


_SAFE_NEXT = re.compile(r"^/staff/[A-Za-z0-9_\-/%.]*(\?[A-Za-z0-9_\-=&%.]*)?$")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only a plain path inside the staff app (no open redirect)."""
    if (
        value
        and len(value) <= 2000
        and _SAFE_NEXT.match(value)
        and not value.startswith("/staff/login")
        and "//" not in value
        and ".." not in value
    ):
        return value
    return "/staff/inbox"


def current_staff(request: Request) -> StaffContext:
    """Dependency: the signed-in staff member, or LoginRequired."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    desk = get_desk(request)
    with desk.db.session() as session:
        context = load_session(session, token)
    if context is None:
        raise LoginRequired()
    request.state.staff = context
    return context


def require(permission: str) -> Callable[..., StaffContext]:
    """Dependency factory: a signed-in staff member whose role has `permission`."""

    def dependency(staff: StaffContext = Depends(current_staff)) -> StaffContext:  # noqa: B008
        if not staff.can(permission):
            raise Forbidden(permission)
        return staff

    dependency.__name__ = f"require_{permission}"
    return dependency


def require_action(permission: str) -> Callable[..., Coroutine[Any, Any, StaffContext]]:
    """Dependency factory for state-changing requests: `require(permission)` plus the CSRF check."""
    role_check = require(permission)

    async def dependency(request: Request, staff: StaffContext = Depends(role_check)) -> StaffContext:  # noqa: B008
        form = await request.form()
        if not tokens_match(staff.csrf_token, form.get(CSRF_FIELD)):
            raise CsrfFailed()
        return staff

    dependency.__name__ = f"action_{permission}"
    return dependency


def add_security_headers(response: Response, request: Request, *, cache: str = "no-store") -> Response:
    for name, value in STAFF_HEADERS.items():
        response.headers[name] = value
    if "cache-control" not in response.headers:
        response.headers["Cache-Control"] = cache
    if is_https(request):
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def _error_page(request: Request, status: int, message: str) -> Response:
    from safedesk.staff.templating import render

    staff = getattr(request.state, "staff", None)
    return render(request, "error.html", status_code=status, staff=staff, message=message, status=status)


# What a person typed in a staff form, given back when their session ended before it was sent.
_TYPED_FIELDS = {"text": "Your text", "content": "The page", "answer": "The answer", "note": "Your note"}


async def _session_ended_page(request: Request) -> Response:
    """A form sent after the session ended: nothing is done, but what was typed is shown again to copy, and
    signing in leads back to the page the form was on."""
    from safedesk.staff.templating import render

    referer = urlsplit(request.headers.get("referer", ""))
    origin = urlsplit(request.headers.get("origin", "")).netloc or referer.netloc
    # Only a form from this site gets its text back: another site must not put its words on a staff page.
    same_site = origin == request.url.netloc
    kept: list[tuple[str, str]] = []
    if same_site:
        try:
            form = await request.form()
            kept = [
                (label, value[:100_000])
                for name, label in _TYPED_FIELDS.items()
                if isinstance(value := form.get(name), str) and value.strip()
            ]
        except Exception:  # an unreadable body: there is nothing to give back
            kept = []
    back = referer.path if same_site and referer.path.startswith("/staff/") else ""
    login = "/staff/login" + (f"?next={quote(back, safe='')}" if back and not back.startswith("/staff/login") else "")
    return render(
        request,
        "error.html",
        status_code=401,
        staff=None,
        status=401,
        message="You are not signed in (or your session has ended), so nothing was sent or changed. Please sign in.",
        kept=kept,
        login=login,
    )


class StaffRoute(APIRoute):
    """A route that adds the staff security headers and renders auth errors for people."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def staff_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired:
                if request.method in ("GET", "HEAD"):
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    response = RedirectResponse(f"/staff/login?next={quote(target, safe='')}", status_code=303)
                else:
                    response = await _session_ended_page(request)
            except StaffAuthError as exc:
                response = _error_page(request, exc.status_code, exc.message)
            except RequestValidationError as exc:
                fields = sorted({str(e.get("loc", ("?",))[-1]) for e in exc.errors()})
                response = _error_page(
                    request, 400, f"The request is missing or has invalid fields: {', '.join(fields)}."
                )
            except UserError as exc:  # an action that cannot be done as asked (InboxError carries a status)
                response = _error_page(request, int(getattr(exc, "status_code", 400)), str(exc))
            except HTTPException as exc:
                response = _error_page(request, exc.status_code, str(exc.detail))
                for name, value in (exc.headers or {}).items():
                    response.headers[name] = value
            return add_security_headers(response, request)

        return staff_handler
