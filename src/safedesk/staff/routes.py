"""The staff app's routes under /staff: sign-in, inbox, conversation actions, review, dashboard,
knowledge, users, account. Server-rendered (Jinja2), no inline script, every POST CSRF-checked,
every route authorised by role (see auth.require / auth.require_action)."""

from __future__ import annotations

from contextlib import nullcontext
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from safedesk import audit
from safedesk.errors import ConfigError, UserError
from safedesk.staff import accounts, dashboard, inbox, knowledge, review
from safedesk.staff.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    StaffContext,
    StaffRoute,
    clear_session_cookie,
    client_ip,
    create_session,
    end_session,
    get_desk,
    load_session,
    new_token,
    require,
    require_action,
    safe_next,
    set_login_csrf_cookie,
    set_session_cookie,
    tokens_match,
)
from safedesk.staff.templating import render

staff_router = APIRouter(prefix="/staff", route_class=StaffRoute, include_in_schema=False)
# `safedesk.web.app.mount_staff_app` looks for `mount` (preferred) or `router`.
router = staff_router

Staff = Annotated[StaffContext, Depends(require("inbox"))]


def mount(app: FastAPI, desk: Any) -> None:
    """Add the staff app to a web app (sets app.state.desk when the app has none)."""
    if getattr(app.state, "desk", None) is None:
        app.state.desk = desk
    app.include_router(staff_router)
    from safedesk.staff.audit_routes import audit_router  # the audit log page
    from safedesk.staff.tools_routes import tools_router  # scam check, redactor, red team

    app.include_router(tools_router)
    app.include_router(audit_router)


def _actor(staff: StaffContext) -> inbox.Actor:
    return inbox.Actor(staff.username, staff.display_name)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _conversation_url(conversation_id: str, done: str = "") -> str:
    return f"/staff/conversations/{quote(conversation_id, safe='')}" + (f"?done={done}" if done else "")


def _issuer(desk: Any) -> str:
    return f"SafeDesk {desk.config.business.name}"


# ---- static files -----------------------------------------------------------------------------

_STATIC = {"staff.css": "text/css; charset=utf-8", "staff.js": "text/javascript; charset=utf-8"}


@staff_router.get("/static/{name}")
def static_file(name: str) -> Response:
    media = _STATIC.get(name)
    if media is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    body = resources.files("safedesk.staff").joinpath(f"static/{name}").read_bytes()
    return Response(body, media_type=media, headers={"Cache-Control": "no-cache"})


# ---- sign-in ----------------------------------------------------------------------------------


@staff_router.get("")
@staff_router.get("/")
def home() -> RedirectResponse:
    return _see_other("/staff/inbox")


def _login_form(
    request: Request,
    *,
    next_url: str,
    error: str = "",
    username: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    token = new_token()
    response = render(
        request, "login.html", status_code=status, csrf=token, next=next_url, error=error, username=username, staff=None
    )
    set_login_csrf_cookie(response, request, token)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


@staff_router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    desk = get_desk(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with desk.db.session() as session:
            if load_session(session, token) is not None:
                return _see_other(safe_next(next))
    return _login_form(request, next_url=safe_next(next))


def _audit_lockout(session: Session, actor: str, ip: str) -> None:
    audit.append(
        session, "staff.lockout", actor=actor, data={"ip": ip, "minutes": int(accounts.LOCKOUT.total_seconds() // 60)}
    )


@staff_router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    next_url = safe_next(next)
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        return _login_form(
            request,
            next_url=next_url,
            username=username,
            status=403,
            error="The sign-in form expired. Please try again.",
        )
    desk = get_desk(request)
    ip = client_ip(request)
    result = accounts.authenticate(desk.db, desk.vault, username, password, code, ip)
    token = None
    with desk.db.session() if result.just_locked or result.ok else nullcontext() as session:
        if result.just_locked:
            _audit_lockout(session, accounts.normalize_username(username)[:64] or "?", ip)
        if result.ok and result.user_id is not None:
            end_session(session, request.cookies.get(SESSION_COOKIE))  # never keep a pre-login session
            token = create_session(session, result.user_id, ip=ip, user_agent=request.headers.get("user-agent", ""))
            audit.append(session, "staff.login", actor=result.username, data={"ip": ip})
    if token is None:
        status = 429 if result.status in (accounts.LoginStatus.LOCKED, accounts.LoginStatus.THROTTLED) else 401
        headers = {"Retry-After": str(result.retry_after_seconds)} if status == 429 else None
        return _login_form(
            request, next_url=next_url, username=username, status=status, error=result.message(), headers=headers
        )
    response = _see_other(next_url)
    set_session_cookie(response, request, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/staff")
    return response


@staff_router.post("/logout")
def logout(request: Request, staff: Annotated[StaffContext, Depends(require_action("account"))]) -> Response:
    desk = get_desk(request)
    with desk.db.session() as session:
        end_session(session, request.cookies.get(SESSION_COOKIE))
        audit.append(session, "staff.logout", actor=staff.username)
    response = _see_other("/staff/login?done=signed-out")
    clear_session_cookie(response, request)
    return response


# ---- inbox ------------------------------------------------------------------------------------


@staff_router.get("/inbox")
def inbox_page(
    request: Request, staff: Staff, kind: str = "", mine: bool = False, unassigned: bool = False, page: int = 1
) -> Response:
    desk = get_desk(request)
    kind = kind if kind in inbox.QUEUES else ""
    page = max(1, min(page, 10_000))
    with desk.db.session() as session:
        counts = inbox.queue_counts(session)
        items, total = inbox.list_items(
            session,
            kind=kind or None,
            assigned_to=staff.username if mine else None,
            unassigned=unassigned and not mine,
            page=page,
        )
    pages = max(1, -(-total // inbox.PER_PAGE))
    return render(
        request,
        "inbox.html",
        nav="inbox",
        counts=counts,
        items=items,
        total=total,
        kind=kind,
        mine=mine,
        unassigned=unassigned,
        page=page,
        pages=pages,
        queues=inbox.QUEUES,
    )


def _conversation_page(
    request: Request,
    staff: StaffContext,
    session: Session,
    view: inbox.ConversationView,
    *,
    revealed: bool = False,
    error: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "conversation.html",
        status_code=status,
        nav="inbox",
        view=view,
        revealed=revealed,
        error=error,
        queues=inbox.QUEUES,
        counts=inbox.queue_counts(session),
        max_text=inbox.MAX_STAFF_TEXT,
    )


@staff_router.get("/conversations/{conversation_id:path}")
def conversation_page(request: Request, conversation_id: str, staff: Staff) -> Response:
    desk = get_desk(request)
    with desk.db.session() as session:
        view = inbox.load_conversation(session, conversation_id)
        response = _conversation_page(request, staff, session, view)
    return response


@staff_router.post("/conversations/{conversation_id:path}/reveal")
def reveal(
    request: Request,
    conversation_id: str,
    staff: Annotated[StaffContext, Depends(require_action("reveal"))],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Show the originals behind the placeholders (audited as staff.reveal). The page is not cached."""
    desk = get_desk(request)
    with desk.db.session() as session:
        view = inbox.load_conversation(session, conversation_id)
        inbox.reveal(session, desk.vault, view, _actor(staff), reason)
        response = _conversation_page(request, staff, session, view, revealed=True)
    return response


@staff_router.post("/conversations/{conversation_id:path}/reply")
def reply(
    request: Request,
    conversation_id: str,
    staff: Annotated[StaffContext, Depends(require_action("reply"))],
    text: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    desk = get_desk(request)
    with desk.db.session() as session:
        inbox.reply(session, conversation_id, text, _actor(staff))
    return _see_other(_conversation_url(conversation_id, "replied"))


@staff_router.post("/conversations/{conversation_id:path}/close")
def close_conversation(
    request: Request, conversation_id: str, staff: Annotated[StaffContext, Depends(require_action("reply"))]
) -> Response:
    desk = get_desk(request)
    with desk.db.session() as session:
        inbox.close_conversation(session, conversation_id, _actor(staff))
    return _see_other("/staff/inbox?done=closed")


def _task_conversation(session: Session, task_id: int) -> str:
    from safedesk.storage.models import MAX_ROW_ID, Task

    task = session.get(Task, task_id) if 0 < task_id <= MAX_ROW_ID else None
    if task is None:
        raise inbox.NotFound("No such task.")
    return task.conversation_id


@staff_router.post("/tasks/{task_id}/approve")
def approve(
    request: Request, task_id: int, staff: Annotated[StaffContext, Depends(require_action("reply"))]
) -> Response:
    desk = get_desk(request)
    with desk.db.session() as session:
        inbox.approve(session, task_id, _actor(staff))
        cid = _task_conversation(session, task_id)
    return _see_other(_conversation_url(cid, "approved"))


@staff_router.post("/tasks/{task_id}/edit")
def edit_and_send(
    request: Request,
    task_id: int,
    staff: Annotated[StaffContext, Depends(require_action("reply"))],
    text: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    desk = get_desk(request)
    with desk.db.session() as session:
        inbox.edit_and_send(session, task_id, text, _actor(staff))
        cid = _task_conversation(session, task_id)
    return _see_other(_conversation_url(cid, "edited"))


@staff_router.post("/tasks/{task_id}/reject")
def reject(
    request: Request,
    task_id: int,
    staff: Annotated[StaffContext, Depends(require_action("reply"))],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    desk = get_desk(request)
    with desk.db.session() as session:
        inbox.reject(session, task_id, note, _actor(staff))
        cid = _task_conversation(session, task_id)
    return _see_other(_conversation_url(cid, "rejected"))


@staff_router.post("/tasks/{task_id}/assign")
def assign(
    request: Request, task_id: int, staff: Annotated[StaffContext, Depends(require_action("inbox"))]
) -> Response:
    desk = get_desk(request)
    with desk.db.session() as session:
        inbox.assign_to_me(session, task_id, _actor(staff))
        cid = _task_conversation(session, task_id)
    return _see_other(_conversation_url(cid, "assigned"))


@staff_router.post("/tasks/{task_id}/close")
def close_task(
    request: Request,
    task_id: int,
    staff: Annotated[StaffContext, Depends(require_action("inbox"))],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    desk = get_desk(request)
    with desk.db.session() as session:
        inbox.close_task(session, task_id, _actor(staff), note)
        cid = _task_conversation(session, task_id)
    return _see_other(_conversation_url(cid, "closed"))


# ---- review -----------------------------------------------------------------------------------


@staff_router.get("/review")
def review_page(
    request: Request, staff: Annotated[StaffContext, Depends(require("review"))], show: str = "pending"
) -> Response:
    desk = get_desk(request)
    show = "done" if show == "done" else "pending"
    with desk.db.session() as session:
        review.sync_review_queue(session, desk.config.review.sample_rate)
        items = review.list_reviews(session, status=show)
        stats = review.review_stats(session)
        counts = inbox.queue_counts(session)
    return render(
        request,
        "review.html",
        nav="review",
        items=items,
        stats=stats,
        show=show,
        counts=counts,
        verdicts=review.VERDICTS,
        rate=desk.config.review.sample_rate,
    )


@staff_router.post("/review/{item_id}")
def review_verdict(
    request: Request,
    item_id: int,
    staff: Annotated[StaffContext, Depends(require_action("review"))],
    verdict: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    desk = get_desk(request)
    with desk.db.session() as session:
        review.record_verdict(session, item_id, verdict, note, _actor(staff))
    return _see_other("/staff/review?done=reviewed")


# ---- dashboard (owners) -----------------------------------------------------------------------


@staff_router.get("/dashboard")
def dashboard_page(
    request: Request, staff: Annotated[StaffContext, Depends(require("dashboard"))], days: int = 30
) -> Response:
    desk = get_desk(request)
    days = days if days in dashboard.PERIODS else 30
    with desk.db.session() as session:
        review.sync_review_queue(session, desk.config.review.sample_rate)
        data = dashboard.collect(
            session,
            days=days,
            timezone=desk.config.business.timezone,
            disclosure=desk.config.disclosure_text(),
        )
        counts = inbox.queue_counts(session)
    return render(
        request,
        "dashboard.html",
        nav="dashboard",
        data=data,
        charts=dashboard.charts(data),
        periods=dashboard.PERIODS,
        counts=counts,
        lane_labels=dashboard.LANE_LABELS,
        setup_warnings=desk.config.setup_warnings(),
    )


# ---- knowledge (owners) -----------------------------------------------------------------------


def _knowledge_page(
    request: Request, desk: Any, *, error: str = "", warnings: tuple[str, ...] = (), status: int = 200
) -> Response:
    files = knowledge.list_files(desk.knowledge, desk.project.knowledge_dir)
    if not error and desk.knowledge.last_error:  # the desk answers nothing from knowledge until it is fixed
        error = (
            "The knowledge does not load, so the desk answers no question from it until this is fixed: "
            f"{desk.knowledge.last_error}"
        )
    return render(
        request,
        "knowledge.html",
        status_code=status,
        nav="knowledge",
        files=files,
        error=error,
        warnings=warnings,
        counts=None,
        max_bytes=knowledge.MAX_FILE_BYTES,
    )


@staff_router.get("/knowledge")
def knowledge_page(request: Request, staff: Annotated[StaffContext, Depends(require("knowledge"))]) -> Response:
    return _knowledge_page(request, get_desk(request))


@staff_router.get("/knowledge/edit")
def knowledge_edit(
    request: Request, staff: Annotated[StaffContext, Depends(require("knowledge"))], name: str = ""
) -> Response:
    desk = get_desk(request)
    content, new = "", True
    if name:
        try:
            content, new = knowledge.read_file(desk.project.knowledge_dir, name), False
        except knowledge.KnowledgeFileError as exc:
            return _knowledge_page(request, desk, error=str(exc), status=404)
    else:
        content = "---\ntitle: \naccess: public\n---\n\n# \n"
    return render(
        request, "knowledge_edit.html", nav="knowledge", name=name, content=content, new=new, error="", counts=None
    )


def _save_knowledge(
    request: Request, desk: Any, staff: StaffContext, name: str, data: bytes | str, how: str, *, replace: bool = True
) -> tuple[tuple[str, ...], str]:
    """Validate, write, audit and re-ingest. Returns (warnings, error from re-ingest or ""). With
    `replace=False` (a new page, an upload without "replace") an existing file of that name is refused."""
    checked = knowledge.validate_markdown(name, data)
    knowledge_dir = desk.project.knowledge_dir
    existed = (knowledge_dir / name).exists()
    _path, digest = knowledge.write_file(knowledge_dir, name, checked, replace=replace)
    with desk.db.session() as session:
        audit.append(
            session,
            "staff.knowledge_save",
            actor=staff.username,
            data={
                "file": name,
                "sha256": digest,
                "access": checked.access.value,
                "how": how,
                "created": not existed,
                "bytes": len(checked.text.encode("utf-8")),
            },
        )
    try:
        desk.knowledge.refresh()
    except ConfigError as exc:
        return checked.warnings, f"Saved, but the knowledge could not be re-read: {exc}"
    return checked.warnings, ""


@staff_router.post("/knowledge/save")
def knowledge_save(
    request: Request,
    staff: Annotated[StaffContext, Depends(require_action("knowledge"))],
    name: Annotated[str, Form(max_length=200)] = "",
    content: Annotated[str, Form(max_length=knowledge.MAX_FILE_BYTES * 2)] = "",
    new: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    desk = get_desk(request)
    try:
        warnings, error = _save_knowledge(
            request, desk, staff, name.strip(), content, "new" if new else "edit", replace=not new
        )
    except knowledge.KnowledgeFileError as exc:
        return render(
            request,
            "knowledge_edit.html",
            status_code=400,
            nav="knowledge",
            name=name,
            content=content,
            new=bool(new) or not name,
            error=str(exc),
            counts=None,
        )
    if warnings or error:
        return _knowledge_page(request, desk, error=error, warnings=warnings)
    return _see_other("/staff/knowledge?done=saved")


@staff_router.post("/knowledge/upload")
async def knowledge_upload(
    request: Request,
    staff: Annotated[StaffContext, Depends(require_action("knowledge"))],
    file: Annotated[UploadFile, File()],
    name: Annotated[str, Form(max_length=200)] = "",
    replace: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    from starlette.concurrency import run_in_threadpool

    desk = get_desk(request)
    target = (name or file.filename or "").strip()
    data = await file.read(knowledge.MAX_FILE_BYTES + 1)
    try:
        if len(data) > knowledge.MAX_FILE_BYTES:
            raise knowledge.KnowledgeFileError(f"{target}: too big (at most {knowledge.MAX_FILE_BYTES} bytes).")
        knowledge.safe_path(desk.project.knowledge_dir, target)
        warnings, error = await run_in_threadpool(
            lambda: _save_knowledge(request, desk, staff, target, data, "upload", replace=bool(replace))
        )
    except knowledge.KnowledgeFileError as exc:
        return await run_in_threadpool(_knowledge_page, request, desk, error=str(exc), status=400)
    if warnings or error:
        return await run_in_threadpool(_knowledge_page, request, desk, error=error, warnings=warnings)
    return _see_other("/staff/knowledge?done=saved")


@staff_router.post("/knowledge/refresh")
def knowledge_refresh(
    request: Request, staff: Annotated[StaffContext, Depends(require_action("knowledge"))]
) -> Response:
    desk = get_desk(request)
    try:  # a broken load is tried again even when no file changed since (the button says "now")
        changed = desk.knowledge.refresh(force=desk.knowledge.last_error is not None)
    except ConfigError as exc:
        return _knowledge_page(request, desk, error=f"The knowledge could not be re-read: {exc}", status=400)
    with desk.db.session() as session:
        audit.append(session, "staff.knowledge_refresh", actor=staff.username, data={"changed": bool(changed)})
    return _see_other("/staff/knowledge?done=" + ("refreshed" if changed else "unchanged"))


# ---- users (owners) ---------------------------------------------------------------------------


def _users_page(
    request: Request,
    desk: Any,
    *,
    error: str = "",
    created: accounts.NewUser | None = None,
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    with desk.db.session() as session:
        users = accounts.list_users(session)
    return render(
        request,
        "users.html",
        status_code=status,
        nav="users",
        users=users,
        error=error,
        created=created,
        roles=accounts.ROLES,
        form=form or {},
        counts=None,
        min_length=accounts.MIN_PASSWORD_LENGTH,
    )


@staff_router.get("/users")
def users_page(request: Request, staff: Annotated[StaffContext, Depends(require("users"))]) -> Response:
    return _users_page(request, get_desk(request))


@staff_router.post("/users")
def add_user(
    request: Request,
    staff: Annotated[StaffContext, Depends(require_action("users"))],
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "agent",
    password: Annotated[str, Form(max_length=1024)] = "",
    password2: Annotated[str, Form(max_length=1024)] = "",
    totp: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    desk = get_desk(request)
    form = {"username": username, "display_name": display_name, "role": role}
    if password != password2:
        return _users_page(request, desk, error="The two passwords differ.", status=400, form=form)
    try:
        with desk.db.session() as session:
            created = accounts.create_user(
                session,
                desk.vault,
                username,
                role,
                password,
                display_name=display_name,
                totp=bool(totp) or role == accounts.OWNER,
                issuer=_issuer(desk),
            )
            audit.append(
                session,
                "staff.user_add",
                actor=staff.username,
                data={"user": created.user.username, "role": role, "totp": created.totp_secret is not None},
            )
    except accounts.AccountError as exc:
        return _users_page(request, desk, error=str(exc), status=400, form=form)
    return _users_page(request, desk, created=created)


def _user_action(request: Request, staff: StaffContext, username: str, action: str, **form: str) -> Response:
    desk = get_desk(request)
    created = None
    try:
        with desk.db.session() as session:
            user = accounts.require_user(session, username)
            if action in ("disable", "reset-totp", "reset-password") and user.username == staff.username:
                raise accounts.AccountError("Use your account page for your own account (and you cannot disable it).")
            if action == "disable":
                accounts.set_disabled(session, user, True)
            elif action == "enable":
                accounts.set_disabled(session, user, False)
            elif action == "reset-password":
                if form.get("password") != form.get("password2"):
                    raise accounts.AccountError("The two passwords differ.")
                accounts.set_password(session, user, form.get("password", ""), issuer=_issuer(desk))
            elif action == "reset-totp":
                created = accounts.reset_totp(session, desk.vault, user, issuer=_issuer(desk))
            audit.append(
                session, f"staff.user_{action.replace('-', '_')}", actor=staff.username, data={"user": user.username}
            )
    except accounts.AccountError as exc:
        return _users_page(request, desk, error=str(exc), status=400)
    if created is not None:
        return _users_page(request, desk, created=created)
    done = {"disable": "disabled", "enable": "enabled", "reset-password": "password"}[action]
    return _see_other(f"/staff/users?done={done}")


@staff_router.post("/users/{username}/disable")
def disable_user(
    request: Request, username: str, staff: Annotated[StaffContext, Depends(require_action("users"))]
) -> Response:
    return _user_action(request, staff, username, "disable")


@staff_router.post("/users/{username}/enable")
def enable_user(
    request: Request, username: str, staff: Annotated[StaffContext, Depends(require_action("users"))]
) -> Response:
    return _user_action(request, staff, username, "enable")


@staff_router.post("/users/{username}/reset-password")
def reset_user_password(
    request: Request,
    username: str,
    staff: Annotated[StaffContext, Depends(require_action("users"))],
    password: Annotated[str, Form(max_length=1024)] = "",
    password2: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    return _user_action(request, staff, username, "reset-password", password=password, password2=password2)


@staff_router.post("/users/{username}/reset-totp")
def reset_user_totp(
    request: Request, username: str, staff: Annotated[StaffContext, Depends(require_action("users"))]
) -> Response:
    return _user_action(request, staff, username, "reset-totp")


# ---- own account ------------------------------------------------------------------------------


@staff_router.get("/account")
def account_page(request: Request, staff: Annotated[StaffContext, Depends(require("account"))]) -> Response:
    return render(
        request, "account.html", nav="account", error="", counts=None, min_length=accounts.MIN_PASSWORD_LENGTH
    )


@staff_router.post("/account/password")
def change_password(
    request: Request,
    staff: Annotated[StaffContext, Depends(require_action("account"))],
    current: Annotated[str, Form(max_length=1024)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    password2: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    desk = get_desk(request)
    try:
        if password != password2:
            raise accounts.AccountError("The two new passwords differ.")
        try:
            accounts.check_current_password(desk.db, staff.username, current, client_ip(request))
        except accounts.AccountError as exc:
            with desk.db.session() as session:
                audit.append(session, "staff.password_check_failed", actor=staff.username)
                if getattr(exc, "just_locked", False):
                    _audit_lockout(session, staff.username, client_ip(request))
            raise
        with desk.db.session() as session:
            user = accounts.require_user(session, staff.username)
            accounts.set_password(session, user, password, issuer=_issuer(desk))  # ends every session ...
            token = create_session(
                session,
                user.id,
                ip=client_ip(request),  # ... so start a new one here
                user_agent=request.headers.get("user-agent", ""),
            )
            audit.append(session, "staff.password_change", actor=staff.username)
    except UserError as exc:
        return render(
            request,
            "account.html",
            status_code=400,
            nav="account",
            error=str(exc),
            counts=None,
            min_length=accounts.MIN_PASSWORD_LENGTH,
        )
    response = _see_other("/staff/account?done=password")
    set_session_cookie(response, request, token)
    return response
