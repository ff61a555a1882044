"""Web hardening: a request-size limit, security headers and an in-memory rate limiter.

The two middlewares are plain ASGI (no `BaseHTTPMiddleware`), so they add no task or buffering
per request and see every response, including errors and static files.
"""

from __future__ import annotations

import json
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: the widget and the shop page load their code and CSS from files.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'self'; object-src 'none'; base-uri 'none'"
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
)


async def _send_json(send: Send, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestTooLarge(HTTPException):
    """Raised from `receive` when a request body passes the limit; FastAPI turns it into a 413."""

    def __init__(self, limit: int) -> None:
        # Connection: close makes the server drop the connection instead of draining the rest of the body.
        super().__init__(
            status_code=413, detail=f"Request body too large (limit {limit} bytes).", headers={"Connection": "close"}
        )


class RequestSizeLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413.

    A declared Content-Length over the limit is refused before the app runs. Bodies without one
    (chunked transfer encoding) are counted as they are read, and reading stops with a 413 as soon
    as the count passes the limit, so a client cannot stream an unbounded body into memory.
    `path_limits` gives other limits to path prefixes (the longest matching prefix wins), e.g. for
    staff uploads.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, path_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = sorted((path_limits or {}).items(), key=lambda item: len(item[0]), reverse=True)

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.path_limits if path.startswith(prefix)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = [v for k, v in scope.get("headers", []) if k == b"content-length"]
        if declared:
            try:
                length = int(declared[0])
                if length < 0 or len(declared) > 1:
                    raise ValueError
            except ValueError:
                await _send_json(send, 400, "Invalid Content-Length header.")
                return
            if length > limit:
                await _send_json(send, 413, f"Request body too large (limit {limit} bytes).", {"connection": "close"})
                return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            if received > limit:
                raise RequestTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except RequestTooLarge as exc:  # the app let it escape (FastAPI routes answer it themselves)
            if started:
                raise
            await _send_json(send, 413, str(exc.detail), {"connection": "close"})


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response (headers the app set itself are kept)."""

    def __init__(self, app: ASGIApp, *, no_store_prefixes: tuple[str, ...] = ("/api/",)) -> None:
        self.app = app
        self.no_store_prefixes = no_store_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(SECURITY_HEADERS)
        if scope.get("path", "").startswith(self.no_store_prefixes):
            extra.append((b"cache-control", b"no-store"))
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ---- rate limiting ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket: `burst` requests at once, refilled at `per_minute` requests a minute."""

    burst: int
    per_minute: float

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The web API's limits. Generous for people, tight enough that one client cannot flood the desk."""

    conversations_per_ip: Rate = Rate(burst=10, per_minute=10)
    messages_per_ip: Rate = Rate(burst=30, per_minute=30)
    messages_per_conversation: Rate = Rate(burst=8, per_minute=12)
    polls_per_ip: Rate = Rate(burst=120, per_minute=240)


class Limiter(ABC):
    """Token buckets keyed by (name, key): `hit` takes one token and returns None, or the seconds until a
    token is available. Subclasses say where the buckets live (this process, or Redis)."""

    @abstractmethod
    def hit(self, name: str, key: str, rate: Rate) -> float | None: ...

    def check(self, name: str, key: str, rate: Rate) -> None:
        """Take a token or raise 429 with Retry-After (whole seconds, at least 1)."""
        wait = self.hit(name, key, rate)
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            raise HTTPException(
                status_code=429,
                detail=f"Too many requests; try again in {seconds} second{'s' if seconds != 1 else ''}.",
                headers={"Retry-After": str(seconds)},
            )


class RateLimiter(Limiter):
    """In-memory token buckets keyed by (name, key). Thread-safe; per process (several workers: see
    `safedesk.web.shared_limits`).

    `hit` takes one token and returns None, or the seconds until a token is available (Retry-After).
    Idle, refilled buckets are dropped when the table grows past `max_keys`, so memory stays bounded.
    """

    idle_seconds = 600.0  # every default bucket refills completely well within this

    def __init__(self, max_keys: int = 50_000, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # -> (tokens, updated)
        self._lock = threading.Lock()
        self._max_keys = max_keys
        self._clock = clock

    def hit(self, name: str, key: str, rate: Rate) -> float | None:
        now = self._clock()
        with self._lock:
            tokens, updated = self._buckets.get((name, key), (float(rate.burst), now))
            tokens = min(float(rate.burst), tokens + (now - updated) * rate.per_second)
            if tokens >= 1.0:
                self._buckets[(name, key)] = (tokens - 1.0, now)
                if len(self._buckets) > self._max_keys:
                    self._prune(now)
                return None
            self._buckets[(name, key)] = (tokens, now)
            return (1.0 - tokens) / rate.per_second if rate.per_second > 0 else 3600.0

    def _prune(self, now: float) -> None:
        stale = [k for k, (_, updated) in self._buckets.items() if now - updated > self.idle_seconds]
        for key in stale:
            del self._buckets[key]
        if len(self._buckets) > self._max_keys:  # still full: under attack from many keys; forget the oldest
            for key in sorted(self._buckets, key=lambda k: self._buckets[k][1])[: len(self._buckets) // 2]:
                del self._buckets[key]
