"""Review sampling: a stable share of AI-answered conversations goes to a review queue.

A conversation is sampled when the hash of its id falls below `review.sample_rate` (default 10%),
so the choice is deterministic: the same conversation is always in or out, in every process, and
raising the rate only adds conversations. Every AI answer (an assistant reply on the answer lane
that came from the business's knowledge) of a sampled conversation becomes one review item; a
reviewer marks it correct, incorrect or unsafe, with a note.

The queue is filled by `sync_review_queue`, which scans new replies since the last scan (a cursor
in `staff_state`), so the pipeline needs no hook and the scan costs nothing when nothing is new. On
PostgreSQL a message id is drawn at insert and may commit after a higher one a scan has already passed,
so each scan also looks again at recent replies that have no review item yet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safedesk import audit
from safedesk.domain import Lane, Role
from safedesk.staff.accounts import utcnow
from safedesk.staff.inbox import Actor, InboxError, NotFound
from safedesk.storage.models import MAX_ROW_ID, Message
from safedesk.storage.staff_models import ReviewItem, StaffState

VERDICTS = ("correct", "incorrect", "unsafe")
CURSOR_KEY = "review_cursor"
SCAN_BATCH = 2000
# Replies this recent are scanned again, whatever the cursor: a turn's transaction that drew its
# message id before the last scan passed it commits well within this time.
LATE_COMMIT_WINDOW = timedelta(minutes=15)
MAX_NOTE = 1000


def sample_fraction(conversation_id: str) -> float:
    """A stable number in [0, 1) for a conversation id (first 8 bytes of its sha256)."""
    digest = hashlib.sha256(conversation_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_sampled(conversation_id: str, rate: float) -> bool:
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    return sample_fraction(conversation_id) < rate


def _is_ai_answer(message: Message) -> bool:
    return (
        message.role == Role.ASSISTANT.value
        and message.status == "delivered"
        and message.lane == Lane.ANSWER.value
        and bool(message.sources)
    )


def sync_review_queue(session: Session, rate: float) -> int:
    """Add review items for AI answers written since the last scan; returns how many were added."""
    state = session.get(StaffState, CURSOR_KEY)
    if state is None:
        state = StaffState(key=CURSOR_KEY, value="0")
        session.add(state)
    cursor = int(state.value or 0)
    added = 0
    while True:
        rows = list(
            session.execute(
                select(Message)
                .where(
                    Message.id > cursor,
                    Message.role == Role.ASSISTANT.value,
                    Message.status == "delivered",
                    Message.lane == Lane.ANSWER.value,
                )
                .order_by(Message.id)
                .limit(SCAN_BATCH)
            ).scalars()
        )
        if not rows:
            break
        added += sum(_queue(session, message, rate) for message in rows)
        cursor = rows[-1].id
        if len(rows) < SCAN_BATCH:
            break
    state.value = str(cursor)
    return added + _queue_late_commits(session, rate, cursor)


def _queue_late_commits(session: Session, rate: float, cursor: int) -> int:
    """Review items for recent AI answers below the cursor that no scan saw: their transaction drew
    the id before a scan passed it, and committed after."""
    rows = session.execute(
        select(Message)
        .where(
            Message.id <= cursor,
            Message.created_at >= utcnow() - LATE_COMMIT_WINDOW,
            Message.role == Role.ASSISTANT.value,
            Message.status == "delivered",
            Message.lane == Lane.ANSWER.value,
            ~select(ReviewItem.id).where(ReviewItem.message_id == Message.id).exists(),
        )
        .order_by(Message.id)
    ).scalars()
    return sum(_queue(session, message, rate) for message in rows)


def _queue(session: Session, message: Message, rate: float) -> bool:
    """Add a review item for a sampled AI answer; False when it is none, or already queued."""
    if not (_is_ai_answer(message) and is_sampled(message.conversation_id, rate)):
        return False
    try:
        with session.begin_nested():
            session.add(ReviewItem(conversation_id=message.conversation_id, message_id=message.id))
            session.flush()
    except IntegrityError:  # already queued by a concurrent scan
        return False
    return True


@dataclass(frozen=True, slots=True)
class ReviewView:
    item: ReviewItem
    answer: Message
    question: Message | None


def list_reviews(session: Session, *, status: str = "pending", limit: int = 50) -> list[ReviewView]:
    items = list(
        session.execute(
            select(ReviewItem, Message)
            .join(Message, Message.id == ReviewItem.message_id)
            .where(ReviewItem.status == status)
            .order_by(ReviewItem.created_at.desc() if status == "done" else ReviewItem.created_at, ReviewItem.id)
            .limit(limit)
        ).all()
    )
    return [ReviewView(item, answer, _question(session, answer)) for item, answer in items]


def _question(session: Session, answer: Message) -> Message | None:
    """The customer message an answer replies to. An approved or edited held draft is sent as a new message
    that replies to the draft, and the draft replies to the customer: follow the chain to the customer."""
    seen: set[int] = set()
    message = session.get(Message, answer.reply_to) if answer.reply_to else None
    while message is not None and message.role != Role.CUSTOMER.value and message.reply_to and message.id not in seen:
        seen.add(message.id)
        message = session.get(Message, message.reply_to)
    return message if message is not None and message.role == Role.CUSTOMER.value else None


def pending_count(session: Session) -> int:
    return int(
        session.execute(select(func.count()).select_from(ReviewItem).where(ReviewItem.status == "pending")).scalar_one()
    )


def record_verdict(session: Session, item_id: int, verdict: str, note: str, actor: Actor) -> ReviewItem:
    if verdict not in VERDICTS:
        raise InboxError(f"Unknown verdict {verdict!r} (use one of: {', '.join(VERDICTS)}).", 400)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InboxError(f"The note is too long ({len(note)} characters; at most {MAX_NOTE}).", 400)
    if verdict != "correct" and not note:
        raise InboxError("Say what is wrong with the answer (a note is required for incorrect or unsafe).", 400)
    item = (
        session.execute(select(ReviewItem).where(ReviewItem.id == item_id).with_for_update()).scalar_one_or_none()
        if 0 < item_id <= MAX_ROW_ID
        else None
    )
    if item is None:
        raise NotFound("No such review item.")
    previous: dict[str, Any] | None = (
        {"verdict": item.verdict, "reviewer": item.reviewer} if item.status == "done" else None
    )
    item.status, item.verdict, item.note = "done", verdict, note
    item.reviewer, item.reviewed_at = actor.username, utcnow()
    audit.append(
        session,
        "staff.review",
        conversation_id=item.conversation_id,
        actor=actor.username,
        data={"item": item.id, "message": item.message_id, "verdict": verdict, "note": note, "previous": previous},
    )
    return item


@dataclass(frozen=True, slots=True)
class ReviewStats:
    reviewed: int
    correct: int
    incorrect: int
    unsafe: int
    pending: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.reviewed if self.reviewed else None


def review_stats(session: Session, since: datetime | None = None) -> ReviewStats:
    conditions: list[Any] = [ReviewItem.status == "done"]
    if since is not None:
        conditions.append(ReviewItem.reviewed_at >= since)
    counts = dict.fromkeys(VERDICTS, 0)
    for verdict, count in session.execute(
        select(ReviewItem.verdict, func.count()).where(*conditions).group_by(ReviewItem.verdict)
    ):
        if verdict in counts:
            counts[verdict] = int(count)
    return ReviewStats(
        reviewed=sum(counts.values()),
        correct=counts["correct"],
        incorrect=counts["incorrect"],
        unsafe=counts["unsafe"],
        pending=pending_count(session),
    )


@dataclass(frozen=True, slots=True)
class RecurringAnswer:
    text: str
    count: int
    unsafe: int
    notes: tuple[str, ...]
    last_conversation: str


def recurring_incorrect(
    session: Session, *, since: datetime | None = None, disclosure: str = "", limit: int = 10
) -> list[RecurringAnswer]:
    """Answers marked incorrect or unsafe, grouped by their text (the same wrong answer again and again).
    The AI disclosure that opens a conversation's first reply (`disclosure`) is not part of the answer."""
    conditions: list[Any] = [ReviewItem.status == "done", ReviewItem.verdict.in_(("incorrect", "unsafe"))]
    if since is not None:
        conditions.append(ReviewItem.reviewed_at >= since)
    groups: dict[str, dict[str, Any]] = {}
    rows = session.execute(
        select(ReviewItem.verdict, ReviewItem.note, ReviewItem.conversation_id, Message.text)
        .join(Message, Message.id == ReviewItem.message_id)
        .where(*conditions)
        .order_by(ReviewItem.id.desc())
        .limit(5000)
    )
    for verdict, note, conversation_id, text in rows:
        text = text or ""
        if disclosure and text.startswith(disclosure):
            text = text[len(disclosure) :]
        key = " ".join(text.split())[:500]
        group = groups.setdefault(key, {"count": 0, "unsafe": 0, "notes": [], "last": conversation_id})
        group["count"] += 1
        group["unsafe"] += verdict == "unsafe"
        if note and note not in group["notes"] and len(group["notes"]) < 3:
            group["notes"].append(note)
    ranked = sorted(groups.items(), key=lambda kv: (-kv[1]["count"], -kv[1]["unsafe"], kv[0]))
    return [RecurringAnswer(text, g["count"], g["unsafe"], tuple(g["notes"]), g["last"]) for text, g in ranked[:limit]]
