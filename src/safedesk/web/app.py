"""The web app: customer chat API, the demo shop page with the chat widget, and (when present) the
staff app. Build it with `create_app(desk)`; `safedesk serve` runs it under uvicorn."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from safedesk import __version__
from safedesk.config import WEEKDAYS
from safedesk.desk import Desk
from safedesk.errors import ConfigError
from safedesk.web import api
from safedesk.web.security import RateLimits, RequestSizeLimitMiddleware, SecurityHeadersMiddleware

log = logging.getLogger("safedesk.web")

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=WEB_DIR / "templates")

# The staff app (inbox, review, tools) is mounted from the first of these modules that exists. It
# provides `mount(app: FastAPI, desk: Desk) -> None` (preferred) or an `APIRouter` named `router`
# (included as is, so give it prefix="/staff"). The desk is on `request.app.state.desk`.
STAFF_MODULES = ("safedesk.staff.routes", "safedesk.web.staff")
# Request-size limits above `limits.max_request_bytes` for some paths: staff knowledge uploads
# (files up to 256 KiB, plus multipart overhead).
# The staff tools take up to 16,000 characters of text, and a form sends a character of Cyrillic, Chinese or
# emoji as up to 12 bytes ("%F0%9F%98%80"): their pages get room for that, so the page can answer.
DEFAULT_PATH_LIMITS = {"/staff/knowledge/upload": 320 * 1024, "/staff/tools/": 256 * 1024}


class Health(BaseModel):
    ok: bool


def create_app(
    desk: Desk, *, rate_limits: RateLimits | None = None, path_limits: dict[str, int] | None = None
) -> FastAPI:
    """The ASGI app for one business's desk.

    `rate_limits` overrides the API's token buckets (tests use tiny ones); `path_limits` gives
    request-size limits other than `limits.max_request_bytes` to path prefixes (e.g. staff uploads).
    """
    config = desk.config
    app = FastAPI(
        title=f"SafeDesk customer chat API: {config.business.name}",
        summary="Chat with the AI assistant of a shop, with hand-off to staff.",
        description=(
            "Start a conversation, send customer messages and read assistant and staff replies. "
            "All text is plain text: clients must render it as text, never as HTML."
        ),
        version=__version__,
        docs_url=None,  # Swagger UI needs inline script and a CDN; the schema is at /openapi.json
        redoc_url=None,
        openapi_tags=[{"name": "customer chat", "description": "The API the chat widget uses."}],
    )
    app.state.desk = desk
    app.state.web = api.WebState(desk, rate_limits)

    # Middlewares: the last added runs first, so headers are added even to 413s from the size limit.
    app.add_middleware(
        RequestSizeLimitMiddleware,
        max_bytes=config.limits.max_request_bytes,
        path_limits={**DEFAULT_PATH_LIMITS, **(path_limits or {})},
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _server_error)

    app.include_router(api.router)
    _add_pages(app, desk)
    mount_staff_app(app, desk)
    return app


def mount_staff_app(app: FastAPI, desk: Desk) -> str | None:
    """The staff app hook: mount the staff module when it exists; returns its name, or None."""
    for name in STAFF_MODULES:
        try:
            staff = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (exc.name == name or name.startswith(exc.name + ".")):  # absent
                continue
            raise  # the module exists but something it imports is missing: say so
        if hasattr(staff, "mount"):
            staff.mount(app, desk)
        else:
            app.include_router(staff.router)
        return name
    return None


def _add_pages(app: FastAPI, desk: Desk) -> None:
    config = desk.config

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def shop(request: Request) -> HTMLResponse:
        business = config.business
        hours = [(day.title(), business.hours.get(day, "closed")) for day in WEEKDAYS]
        return templates.TemplateResponse(
            request,
            "shop.html",
            {
                "business": business,
                "hours": hours,
                "hours_sentence": business.hours_sentence(),
                "disclosure": config.disclosure_text(),
                "topics": _public_titles(desk),
            },
        )

    @app.get("/widget.js", include_in_schema=False)
    def widget_js() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "widget.js", media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    @app.get("/widget.css", include_in_schema=False)
    def widget_css() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "widget.css", media_type="text/css; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)  # no icon; a 404 here is an error in every browser console

    @app.get("/healthz", response_model=Health, summary="Liveness check", tags=["operations"])
    def healthz() -> Health:
        return Health(ok=True)

    app.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)  # for HEAD-only monitors


# `safedesk serve --workers N`: uvicorn starts N processes and each imports the app by name, so the desk
# they open is named in the environment.
PROJECT_ENV = "SAFEDESK_PROJECT"
LLM_URL_ENV = "SAFEDESK_LLM_URL"


TORCH_WARNING = (
    "PyTorch is installed in this environment and spaCy loaded it (about 300 MB more per worker); SafeDesk "
    "does not use it: install SafeDesk in an environment without it"
)
# uvicorn stops every worker and exits when one exits with this code at start-up; any other exit code
# makes it start the worker again, at once and forever.
_STARTUP_FAILURE = 3


def create_app_from_env() -> FastAPI:
    """App factory for each worker process: the desk in $SAFEDESK_PROJECT (model at $SAFEDESK_LLM_URL).
    A desk that does not open stops the server with one line in the log, instead of a restart loop."""
    try:
        project = os.environ.get(PROJECT_ENV)
        if not project:
            raise ConfigError(f"{PROJECT_ENV} is not set: start workers with `safedesk serve --workers N`")
        desk = Desk.open(Path(project), llm_url=os.environ.get(LLM_URL_ENV) or None)
    except Exception as exc:
        log.error("worker %d: the desk did not open: %s", os.getpid(), str(exc).splitlines()[0] if str(exc) else exc)
        raise SystemExit(_STARTUP_FAILURE) from None
    if "torch" in sys.modules:
        log.warning(TORCH_WARNING)
    return create_app(desk)


def _public_titles(desk: Desk, limit: int = 8) -> list[str]:
    """Titles of the business's public knowledge pages, for the shop page's help topics."""
    return desk.knowledge.public_titles()[:limit]


# ---- errors -----------------------------------------------------------------------------------


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """400 for malformed JSON, 422 for a body of the wrong shape, each with a readable `detail`.
    The offending input is never echoed back (it may hold personal data)."""
    errors = exc.errors()
    broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken is not None:
        reason = (broken.get("ctx") or {}).get("error", "not valid JSON")
        position = broken["loc"][-1] if broken.get("loc") else "?"
        return JSONResponse({"detail": f"Malformed JSON body: {reason} (at character {position})."}, 400)
    items = []
    for error in errors:
        loc = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        items.append({"loc": loc, "msg": error.get("msg", "invalid"), "type": error.get("type", "")})
    detail = "; ".join(f"{item['loc']}: {item['msg']}" for item in items)
    return JSONResponse({"detail": f"Invalid request: {detail}.", "errors": items}, 422)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Starlette logs the exception (and re-raises it to the server) after this response is sent.
    if request.url.path.startswith("/staff"):  # a person at a browser, not the widget
        return HTMLResponse(
            "<!doctype html><title>Something went wrong</title><h1>Something went wrong</h1><p>The error was "
            'logged. Go back and try again; if it keeps happening, tell the desk\'s owner.</p><p><a href="/staff/">'
            "Back to the inbox</a></p>",
            500,
        )
    return JSONResponse(
        {"detail": "Internal error. If you sent a message, it was kept; retry with the same idempotency key."}, 500
    )
