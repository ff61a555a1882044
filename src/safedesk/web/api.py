"""The customer chat API (/api/v1): start a conversation, send a message, receive replies.

Sending runs the one `TurnPipeline`; the endpoint is a plain `def`, so FastAPI runs the sync,
CPU-bound turn in its threadpool. Receiving long-polls the database (async sleeps between cheap
reads), so staff replies written by any process reach the widget within a second.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from starlette.concurrency import run_in_threadpool

from safedesk import audit
from safedesk.desk import Desk
from safedesk.domain import Role
from safedesk.errors import SafeDeskError
from safedesk.storage import repository as repo
from safedesk.storage.models import Conversation, Message
from safedesk.web.security import RateLimiter, RateLimits

log = logging.getLogger("safedesk.web")

CHANNEL = "web"  # conversations this API opened; it never touches other channels' conversations
POLL_INTERVAL_SECONDS = 0.5
MAX_WAIT_SECONDS = 25.0
MAX_TEXT_CHARS = 100_000  # hard cap; the pipeline hands longer-than-configured messages to staff itself
TURN_LOCK_TIMEOUT_SECONDS = 60.0

ConversationId = Annotated[
    str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The conversation id.")
]


# ---- schemas ----------------------------------------------------------------------------------


class ErrorOut(BaseModel):
    detail: str = Field(description="What went wrong, in a sentence.")


class ConversationOut(BaseModel):
    id: str = Field(description="Unguessable conversation id. Keep it to send messages and read replies.")
    disclosure: str = Field(description="Tells the customer they are talking to an AI assistant.")


class MessageIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        title="Customer message",
        json_schema_extra={"examples": [{"text": "What are your opening hours?", "idempotency_key": "a1b2c3"}]},
    )

    text: str = Field(max_length=MAX_TEXT_CHARS, description="The customer's message, as typed.")
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Client-generated key; a retry with the same key returns the first reply instead of a "
        "second one. May also be sent as the Idempotency-Key header.",
    )


class ReplyOut(BaseModel):
    model_config = ConfigDict(title="Assistant reply", populate_by_name=True)

    message_id: int = Field(description="Id of the stored customer message.")
    reply_id: int = Field(description="Id of the reply message.")
    reply: str = Field(description="The reply text (plain text; never HTML).")
    lane: Literal["answer", "verify", "human", "refuse"]
    topic: str
    held_for_review: bool = Field(description="True when the real answer waits for staff approval.")
    sources: list[str] = Field(description="Titles of the published pages the answer came from.")
    author: str | None = None
    from_: Literal["assistant"] = Field(default="assistant", alias="from")


class ChatMessageOut(BaseModel):
    model_config = ConfigDict(title="Delivered message", populate_by_name=True)

    id: int
    from_: Literal["assistant", "staff"] = Field(alias="from")
    author: str | None = Field(description="Staff member's display name; null for the AI assistant.")
    text: str = Field(description="Plain text; never HTML.")
    created_at: datetime


class MessagesOut(BaseModel):
    model_config = ConfigDict(title="Delivered messages")

    messages: list[ChatMessageOut] = Field(description="Assistant and staff messages after `after`, oldest first.")
    last_id: int = Field(description="Pass this as `after` on the next poll.")


ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorOut, "description": "No such conversation."},
    429: {"model": ErrorOut, "description": "Too many requests; see the Retry-After header."},
}

# ---- plumbing ---------------------------------------------------------------------------------


class KeyedLocks:
    """One lock per key, created on demand and dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str, timeout: float) -> Iterator[bool]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        acquired = lock.acquire(timeout=timeout)
        try:
            yield acquired
        finally:
            if acquired:
                lock.release()
            with self._guard:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


class WebState:
    """What the API keeps between requests: the desk, rate limiter, per-conversation turn locks."""

    def __init__(self, desk: Desk, rate_limits: RateLimits | None = None) -> None:
        self.desk = desk
        self.rate_limits = rate_limits or RateLimits()
        self.limiter = RateLimiter()
        self.turn_locks = KeyedLocks()
        self.read_engine = _read_engine(desk)
        self.latest = LatestMessageId(self._newest_message_id, POLL_INTERVAL_SECONDS)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session that does not take SQLite's write lock (WAL readers never wait for a turn)."""
        with Session(self.read_engine) as session:
            yield session

    def _newest_message_id(self) -> int:
        with self.read() as session:
            return session.scalar(select(func.max(Message.id))) or 0


class LatestMessageId:
    """The newest message id in the whole database, re-read at most once per `interval` and shared
    by every waiting long poll: idle polls cost a comparison, not a query each. A poll queries its
    own conversation only when this id has moved."""

    def __init__(self, read: Callable[[], int], interval: float) -> None:
        self._read = read
        self._interval = interval
        self._value = 0
        self._checked = float("-inf")

    async def get(self) -> int:
        if time.monotonic() - self._checked >= self._interval:
            self._checked = time.monotonic()
            self._value = max(self._value, await run_in_threadpool(self._read))
        return self._value


def _read_engine(desk: Desk) -> Engine:
    url = desk.db.url
    if url.startswith("sqlite") and ":memory:" not in url:
        # The desk's engine begins every transaction with BEGIN IMMEDIATE (the write lock), which a
        # poll must not wait for. Plain pysqlite reads run outside a transaction and see WAL snapshots.
        # NullPool: a connection per read, closed at once, so nothing outlives the app.
        return create_engine(url, poolclass=NullPool, connect_args={"timeout": 30, "check_same_thread": False})
    return desk.db.engine


def web_state(request: Request) -> WebState:
    return request.app.state.web


State = Annotated[WebState, Depends(web_state)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def require_json(request: Request) -> None:
    """415 unless the body is declared as JSON (a form post or text/plain is refused, not guessed at)."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise HTTPException(415, "Send the message as JSON (Content-Type: application/json).")


def _web_conversation(session: Session, conversation_id: str) -> Conversation | None:
    conversation = session.get(Conversation, conversation_id)
    return conversation if conversation is not None and conversation.channel == CHANNEL else None


def _not_found() -> HTTPException:
    return HTTPException(404, "No such conversation. Start a new one with POST /api/v1/conversations.")


# ---- endpoints --------------------------------------------------------------------------------

router = APIRouter(prefix="/api/v1", tags=["customer chat"])


@router.post(
    "/conversations",
    status_code=201,
    response_model=ConversationOut,
    summary="Start a conversation",
    responses={429: ERRORS[429]},
)
def create_conversation(request: Request, state: State) -> ConversationOut:
    """Open a new conversation with an unguessable id, and the AI disclosure to show the customer."""
    state.limiter.check("conversations-ip", client_ip(request), state.rate_limits.conversations_per_ip)
    conversation_id = secrets.token_urlsafe(16)
    with state.desk.db.session() as session:
        repo.get_or_create_conversation(session, conversation_id, CHANNEL)
        audit.append(session, "conversation.opened", conversation_id=conversation_id, data={"channel": CHANNEL})
    return ConversationOut(id=conversation_id, disclosure=state.desk.config.disclosure_text())


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=ReplyOut,
    summary="Send a customer message and get the reply",
    dependencies=[Depends(require_json)],
    responses={
        **ERRORS,
        400: {"model": ErrorOut, "description": "Malformed JSON."},
        413: {"model": ErrorOut, "description": "Request body too large."},
        415: {"model": ErrorOut, "description": "Body is not JSON."},
        503: {"model": ErrorOut, "description": "The message was kept but not answered; retry with the same key."},
    },
)
def post_message(
    conversation_id: ConversationId,
    body: MessageIn,
    request: Request,
    state: State,
    idempotency_header: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    ] = None,
) -> ReplyOut:
    """Run one customer turn. The message is stored before it is processed; a retry with the same
    idempotency key returns the stored reply instead of answering twice."""
    limits = state.rate_limits
    state.limiter.check("messages-ip", client_ip(request), limits.messages_per_ip)
    with state.read() as session:
        if _web_conversation(session, conversation_id) is None:
            raise _not_found()
    state.limiter.check("messages-conversation", conversation_id, limits.messages_per_conversation)
    key = body.idempotency_key or idempotency_header
    if body.idempotency_key and idempotency_header and body.idempotency_key != idempotency_header:
        raise HTTPException(400, "The Idempotency-Key header and the idempotency_key field differ.")

    # One turn at a time per conversation: replies stay in order, the disclosure is added once, and a
    # retry racing its original waits for the stored reply instead of producing a second one.
    with state.turn_locks.hold(conversation_id, TURN_LOCK_TIMEOUT_SECONDS) as acquired:
        if not acquired:
            raise HTTPException(
                503, "The desk is busy with this conversation; retry with the same key.", headers={"Retry-After": "2"}
            )
        try:
            result = state.desk.pipeline.run(conversation_id, body.text, channel=CHANNEL, idempotency_key=key)
        except SafeDeskError as exc:
            log.warning("turn failed in conversation %s: %s", conversation_id, type(exc).__name__)
            raise HTTPException(
                503,
                "Your message was kept but could not be answered just now; retry with the same idempotency key.",
                headers={"Retry-After": "2"},
            ) from None
    assert result.message_id is not None and result.reply_id is not None
    return ReplyOut(
        message_id=result.message_id,
        reply_id=result.reply_id,
        reply=result.reply,
        lane=result.lane.value,
        topic=result.topic.value,
        held_for_review=result.held_for_review,
        sources=list(result.sources),
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment  # SQLite drops the zone


def _delivered_after(state: WebState, conversation_id: str, after: int) -> tuple[list[ChatMessageOut], int] | None:
    """Assistant and staff messages the customer may see, after id `after`, and the newest message id
    anywhere, read first (so a message committed after that read has a larger id). None: no such
    conversation."""
    with state.read() as session:
        newest = session.scalar(select(func.max(Message.id))) or 0
        if _web_conversation(session, conversation_id) is None:
            return None
        rows = session.execute(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.id > after,
                Message.role.in_((Role.ASSISTANT.value, Role.STAFF.value)),
                Message.status == "delivered",
            )
            .order_by(Message.id)
            .limit(100)
        ).scalars()
        messages = [
            ChatMessageOut(
                id=m.id,
                from_=m.role,
                author=m.author if m.role == Role.STAFF.value else None,
                text=m.text,
                created_at=_utc(m.created_at),
            )
            for m in rows
        ]
        return messages, newest


@router.get(
    "/conversations/{conversation_id}/messages",
    response_model=MessagesOut,
    summary="Read (or wait for) replies",
    responses=ERRORS,
)
async def list_messages(
    conversation_id: ConversationId,
    request: Request,
    state: State,
    after: Annotated[int, Query(ge=0, description="Only messages with a larger id.")] = 0,
    wait: Annotated[
        float, Query(ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for a message (long poll).")
    ] = 0,
) -> MessagesOut:
    """Assistant and staff messages after `after`. With `wait`, the request is held until a message
    arrives or the time is up, so staff replies reach the customer without fast polling."""
    state.limiter.check("polls-ip", client_ip(request), state.rate_limits.polls_per_ip)
    deadline = time.monotonic() + wait
    found = await run_in_threadpool(_delivered_after, state, conversation_id, after)
    if found is None:
        raise _not_found()
    messages, seen = found
    while not messages and (remaining := deadline - time.monotonic()) > 0:
        await anyio.sleep(min(POLL_INTERVAL_SECONDS, remaining))
        if await request.is_disconnected():
            break
        newest = await state.latest.get()
        if newest > seen:  # something was written somewhere: look at this conversation
            found = await run_in_threadpool(_delivered_after, state, conversation_id, after)
            if found is None:
                break
            messages, seen = found
    return MessagesOut(messages=messages, last_id=max((m.id for m in messages), default=after))
