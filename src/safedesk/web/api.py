"""The customer chat API (/api/v1): start a conversation, send a message, receive replies.

Sending runs the one `TurnPipeline`; the endpoint is a plain `def`, so FastAPI runs the sync,
CPU-bound turn in its threadpool. The streaming variant sends the reply as server-sent events,
sentence by sentence as the outbound guards pass them; its sync generator is iterated in the
threadpool too. Receiving long-polls the database (async sleeps between cheap reads), so staff
replies written by any process reach the widget within a second.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from safedesk import audit
from safedesk.desk import Desk
from safedesk.domain import Role, TurnResult
from safedesk.errors import IdempotencyConflict, SafeDeskError
from safedesk.storage import repository as repo
from safedesk.storage.models import MAX_ID_CHARS, MAX_ROW_ID, Conversation, Message
from safedesk.web.security import RateLimits
from safedesk.web.shared_limits import build_rate_limiter

log = logging.getLogger("safedesk.web")

CHANNEL = "web"  # conversations this API opened; it never touches other channels' conversations
POLL_INTERVAL_SECONDS = 0.5
MAX_WAIT_SECONDS = 25.0
MAX_TEXT_CHARS = 100_000  # hard cap; the pipeline hands longer-than-configured messages to staff itself
TURN_LOCK_TIMEOUT_SECONDS = 60.0

ConversationId = Annotated[
    str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The conversation id.")
]
IdempotencyHeader = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=MAX_ID_CHARS, pattern=r"^[\x21-\x7e]+$")
]
TURN_FAILED = "Your message was kept but could not be answered just now; retry with the same idempotency key."
TURN_CRASHED = "Internal error. If you sent a message, it was kept; retry with the same idempotency key."


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
        max_length=MAX_ID_CHARS,
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
    reply_to_key: str | None = Field(
        default=None,
        description="The idempotency key of the customer message this answers, when it had one: a client whose "
        "send failed on the way back learns here that the message did arrive.",
    )


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
        self.limiter = build_rate_limiter(desk.config.limits)
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


MESSAGE_ERRORS: dict[int | str, dict[str, object]] = {
    **ERRORS,
    400: {"model": ErrorOut, "description": "Malformed JSON, or the Idempotency-Key header and field differ."},
    413: {"model": ErrorOut, "description": "Request body too large."},
    409: {"model": ErrorOut, "description": "The idempotency key was already used for a different message."},
    415: {"model": ErrorOut, "description": "Body is not JSON."},
    503: {"model": ErrorOut, "description": "The message was kept but not answered; retry with the same key."},
}


def _admit_turn(
    conversation_id: str, body: MessageIn, request: Request, state: WebState, idempotency_header: str | None
) -> str | None:
    """What every send passes before its turn runs: the rate limits, a conversation of this channel
    (404 otherwise) and one idempotency key (400 when header and field differ). Returns the key."""
    limits = state.rate_limits
    state.limiter.check("messages-ip", client_ip(request), limits.messages_per_ip)
    with state.read() as session:
        if _web_conversation(session, conversation_id) is None:
            raise _not_found()
    state.limiter.check("messages-conversation", conversation_id, limits.messages_per_conversation)
    if body.idempotency_key and idempotency_header and body.idempotency_key != idempotency_header:
        raise HTTPException(400, "The Idempotency-Key header and the idempotency_key field differ.")
    return body.idempotency_key or idempotency_header


def _hold_turn_lock(state: WebState, conversation_id: str) -> ExitStack:
    """Take the conversation's turn lock (503 when another turn keeps it too long); close the returned
    stack to release it.

    One turn at a time per conversation: replies stay in order, the disclosure is added once, and a
    retry racing its original waits for the stored reply instead of producing a second one."""
    stack = ExitStack()
    if not stack.enter_context(state.turn_locks.hold(conversation_id, TURN_LOCK_TIMEOUT_SECONDS)):
        stack.close()
        raise HTTPException(
            503, "The desk is busy with this conversation; retry with the same key.", headers={"Retry-After": "2"}
        )
    return stack


def _turn_failed(conversation_id: str, exc: SafeDeskError) -> HTTPException:
    if isinstance(exc, IdempotencyConflict):
        return HTTPException(409, f"{str(exc)[0].upper()}{str(exc)[1:]}.")
    log.warning("turn failed in conversation %s: %s", conversation_id, type(exc).__name__)
    return HTTPException(503, TURN_FAILED, headers={"Retry-After": "2"})


def _reply_out(result: TurnResult) -> ReplyOut:
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


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=ReplyOut,
    summary="Send a customer message and get the reply",
    dependencies=[Depends(require_json)],
    responses=MESSAGE_ERRORS,
)
def post_message(
    conversation_id: ConversationId,
    body: MessageIn,
    request: Request,
    state: State,
    idempotency_header: IdempotencyHeader = None,
) -> ReplyOut:
    """Run one customer turn. The message is stored before it is processed; a retry with the same
    idempotency key returns the stored reply instead of answering twice."""
    key = _admit_turn(conversation_id, body, request, state, idempotency_header)
    with _hold_turn_lock(state, conversation_id):
        try:
            result = state.desk.pipeline.run(conversation_id, body.text, channel=CHANNEL, idempotency_key=key)
        except SafeDeskError as exc:
            raise _turn_failed(conversation_id, exc) from None
    return _reply_out(result)


# ---- streaming ----------------------------------------------------------------------------------

REPLY_FIELDS = ("message_id", "reply_id", "reply", "lane", "topic", "held_for_review", "sources")
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # no proxy buffering either
STREAM_EXAMPLE = (
    'event: delta\ndata: {"text": "Delivery in Norway takes 2-4 business days."}\n\n'
    'event: done\ndata: {"message_id": 7, "reply_id": 8, "reply": "Delivery in Norway takes 2-4 business days.", '
    '"lane": "answer", "topic": "delivery", "held_for_review": false, "sources": ["Delivery"], '
    '"author": null, "from": "assistant"}\n\n'
)


def _sse(event: str, data: str) -> bytes:
    """One server-sent event. `data` is compact JSON: one line (JSON escapes every line break)."""
    return f"event: {event}\ndata: {data}\n\n".encode()


class EventStreamResponse(StreamingResponse):
    """`text/event-stream` over a sync iterator (iterated in the threadpool), with a `close` callback
    run once when the response is over: sent, failed, or the client went away. Starlette just stops
    iterating on a disconnect and never closes the iterator, so without this a turn could keep its
    conversation's lock."""

    media_type = "text/event-stream"

    def __init__(
        self, content: Iterable[bytes], *, close: Callable[[], None], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(content, headers=headers)
        self._close = close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):  # also after a cancellation (client disconnect)
                await run_in_threadpool(self._close)


class StreamedTurn:
    """One streamed turn: the pipeline's events, written as server-sent events. It holds the
    conversation's turn lock from before the first event until `close`, which runs once, whichever
    comes first: the stream's end (the generator's `finally`) or the response's end."""

    def __init__(self, conversation_id: str, events: Iterator[dict[str, object]], lock: ExitStack) -> None:
        self.conversation_id = conversation_id
        self._events = events
        self._lock = lock
        self._closed = False
        self._guard = threading.Lock()

    def next_event(self) -> dict[str, object] | None:
        """The next pipeline event, None after the last. `done` comes back only after the pipeline
        ran to its end, so the reply is committed before the customer is told about it."""
        event = next(self._events, None)
        if event is not None and event.get("type") == "done":
            for extra in self._events:
                log.warning("ignored a %r event after done in conversation %s", extra.get("type"), self.conversation_id)
        return event

    def events(self, first: dict[str, object] | None) -> Iterator[bytes]:
        """SSE bytes, starting with `first`: deltas, then done (or error, when the turn fails)."""
        event = first
        try:
            while event is not None:
                if event.get("type") == "delta":
                    yield _sse("delta", json.dumps({"text": event["text"]}, ensure_ascii=False))
                elif event.get("type") == "done":
                    reply = ReplyOut.model_validate({name: event[name] for name in REPLY_FIELDS})
                    yield _sse("done", reply.model_dump_json(by_alias=True))
                    return
                event = self.next_event()
            log.error("streamed turn in conversation %s ended without a reply", self.conversation_id)
            yield _sse("error", json.dumps({"detail": TURN_FAILED}))
        except SafeDeskError as exc:
            log.warning("streamed turn failed in conversation %s: %s", self.conversation_id, type(exc).__name__)
            yield _sse("error", json.dumps({"detail": TURN_FAILED}))
        except Exception:
            log.exception("streamed turn crashed in conversation %s", self.conversation_id)
            yield _sse("error", json.dumps({"detail": TURN_CRASHED}))
        finally:
            self.close()

    def close(self) -> None:
        """Finish the turn, then release the lock; once. A client that leaves mid-stream does not cut
        the turn short: it runs to its end, so its reply is stored and a retry with the same key
        (the widget's non-streaming fallback) gets that reply instead of a second answer."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
        try:
            for _ in self._events:
                pass
        except Exception as exc:
            log.warning("streamed turn in conversation %s failed: %s", self.conversation_id, type(exc).__name__)
        finally:
            self._lock.close()


@router.post(
    "/conversations/{conversation_id}/messages/stream",
    status_code=200,
    response_class=EventStreamResponse,
    response_description="A `text/event-stream` of `delta` events, then one `done` (or `error`) event.",
    summary="Send a customer message and stream the reply (server-sent events)",
    dependencies=[Depends(require_json)],
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}, "example": STREAM_EXAMPLE}},
        },
        **{
            code: {  # documented as JSON: `model` would give them this route's media type
                "description": response["description"],
                "content": {"application/json": {"schema": ErrorOut.model_json_schema()}},
            }
            for code, response in MESSAGE_ERRORS.items()
        },
    },
)
def stream_message(
    conversation_id: ConversationId,
    body: MessageIn,
    request: Request,
    state: State,
    idempotency_header: IdempotencyHeader = None,
) -> EventStreamResponse:
    """Run one customer turn like `POST .../messages` (same body, headers, limits and errors), but send
    the reply as server-sent events while it is written:

    - `event: delta`, `data: {"text": ...}`: one or more whole sentences that already passed the
      outbound guards; append them to the reply shown so far. Zero or more.
    - `event: done`, `data`: the *Assistant reply* object of `POST .../messages`. Its `reply` is the
      stored reply the customer must end up seeing: **replace** the streamed text with it (it differs
      when a later sentence failed a guard, or when the answer waits for staff).
    - `event: error`, `data: {"detail": ...}`: the turn failed after the stream started. The message was
      kept; retry (streaming or not) with the same idempotency key.

    Errors before the first event are plain HTTP errors, as for `POST .../messages`."""
    key = _admit_turn(conversation_id, body, request, state, idempotency_header)
    lock = _hold_turn_lock(state, conversation_id)
    try:
        events = state.desk.pipeline.run_streaming(conversation_id, body.text, channel=CHANNEL, idempotency_key=key)
        turn = StreamedTurn(conversation_id, iter(events), lock)
    except BaseException:
        lock.close()
        raise
    try:
        first = turn.next_event()  # errors before the stream starts get the status codes of the plain POST
    except SafeDeskError as exc:
        turn.close()
        raise _turn_failed(conversation_id, exc) from None
    except BaseException:
        turn.close()
        raise
    return EventStreamResponse(turn.events(first), close=turn.close, headers=STREAM_HEADERS)


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
        rows = (
            session.execute(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.id > after,
                    Message.role.in_((Role.ASSISTANT.value, Role.STAFF.value)),
                    Message.status == "delivered",
                )
                .order_by(Message.id)
                .limit(100)
            )
            .scalars()
            .all()
        )
        # The key of each customer message answered here (lets a client clear its "not sent" mark).
        keys: dict[int, str | None] = {}
        if asked := {m.reply_to for m in rows if m.reply_to is not None}:
            keys = dict(
                session.execute(
                    select(Message.id, Message.idempotency_key).where(
                        Message.id.in_(asked), Message.role == Role.CUSTOMER.value
                    )
                ).all()
            )
        messages = [
            ChatMessageOut(
                id=m.id,
                from_=m.role,
                author=m.author if m.role == Role.STAFF.value else None,
                text=m.text,
                created_at=_utc(m.created_at),
                reply_to_key=keys.get(m.reply_to) if m.reply_to is not None else None,
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
    after: Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="Only messages with a larger id.")] = 0,
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
