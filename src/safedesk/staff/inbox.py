"""The staff inbox: queues of open tasks, a conversation's view, and every staff action on them.

Each action runs in the caller's transaction, checks the task's state under a row lock, and writes
one audit event `staff.<action>` with the acting user. Customers see a staff action only as a
delivered Message (role "staff" with the author's display name, or "assistant" for an AI draft a
person approved unchanged); a new row is written for it, so the widget, which polls for ids after
the last one it has, receives it even when the held draft is older than the notice the customer got.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safedesk import audit
from safedesk.domain import Role
from safedesk.errors import UserError
from safedesk.redaction import placeholders_in_words
from safedesk.staff.accounts import utcnow
from safedesk.storage import repository as repo
from safedesk.storage.models import MAX_ROW_ID, Conversation, Message, Task, VaultEntry

QUEUES: dict[str, str] = {
    "handoff": "Hand-offs",
    "held_draft": "Held drafts",
    "verification": "Verification",
    "attack": "Flagged attacks",
}
PER_PAGE = 50
PREVIEW_CHARS = 160
MAX_STAFF_TEXT = 4000
MAX_NOTE = 1000

# Status of a held draft after staff dealt with it (the text sent is a new, delivered message).
DRAFT_APPROVED = "approved"
DRAFT_EDITED = "edited"
DRAFT_REJECTED = "rejected"


class InboxError(UserError):
    """A staff action that cannot be done: unknown task, already closed, empty text..."""

    def __init__(self, message: str, status_code: int = 409) -> None:
        super().__init__(message)
        self.status_code = status_code


class NotFound(InboxError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 404)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the signed-in user's name (audit) and display name (shown to customers)."""

    username: str
    display_name: str


# ---- queues -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InboxItem:
    task_id: int
    kind: str
    summary: str
    created_at: datetime
    assigned_to: str | None
    conversation_id: str
    conversation_status: str
    topic: str | None
    preview: str


def queue_counts(session: Session) -> dict[str, int]:
    """Open tasks per queue (every queue present, zero when empty)."""
    counts = dict.fromkeys(QUEUES, 0)
    rows = session.execute(select(Task.kind, func.count()).where(Task.status == "open").group_by(Task.kind))
    for kind, count in rows:
        counts[kind] = int(count)
    return counts


def list_items(
    session: Session,
    *,
    kind: str | None = None,
    assigned_to: str | None = None,
    unassigned: bool = False,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> tuple[list[InboxItem], int]:
    """One page of open tasks, newest first, with the redacted text of their message; and the total."""
    conditions: list[Any] = [Task.status == "open"]
    if kind:
        conditions.append(Task.kind == kind)
    if assigned_to:
        conditions.append(Task.assigned_to == assigned_to)
    elif unassigned:
        conditions.append(Task.assigned_to.is_(None))
    total = int(session.execute(select(func.count()).select_from(Task).where(*conditions)).scalar_one())
    page = max(1, page)
    # Pick the page's task ids from the (status, kind) index first, then join only those 50 rows.
    page_ids = (
        select(Task.id)
        .where(*conditions)
        .order_by(Task.created_at.desc(), Task.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
        .subquery()
    )
    rows = session.execute(
        select(
            Task.id,
            Task.kind,
            Task.summary,
            Task.created_at,
            Task.assigned_to,
            Task.conversation_id,
            Conversation.status,
            Conversation.last_topic,
            Message.text,
            Message.status,
        )
        .join(page_ids, page_ids.c.id == Task.id)
        .join(Conversation, Conversation.id == Task.conversation_id)
        .outerjoin(Message, Message.id == Task.message_id)
        .order_by(Task.created_at.desc(), Task.id.desc())
    ).all()
    items = [
        InboxItem(
            task_id=r[0],
            kind=r[1],
            summary=r[2] or "",
            created_at=r[3],
            assigned_to=r[4],
            conversation_id=r[5],
            conversation_status=r[6],
            topic=r[7],
            preview=_preview(r[8], r[9]),
        )
        for r in rows
    ]
    return items, total


def _preview(text: str | None, status: str | None) -> str:
    if status in ("received", "processing") and not text:
        return "(not processed yet)"
    text = " ".join((text or "").split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


# ---- one conversation -------------------------------------------------------------------------


@dataclass(slots=True)
class MessageView:
    id: int
    role: str
    author: str | None
    status: str
    text: str  # redacted for customer messages
    lane: str | None
    topic: str | None
    findings: list[dict[str, Any]]
    sources: list[str]
    created_at: datetime
    reply_to: int | None
    has_original: bool
    original: str | None = None  # only after an audited reveal


@dataclass(slots=True)
class ConversationView:
    conversation: Conversation
    messages: list[MessageView]
    tasks: list[Task]
    held: list[tuple[Task, MessageView]]
    vault_count: int
    revealed: dict[str, str] = field(default_factory=dict)  # placeholder -> original, after a reveal
    truncated: bool = False

    @property
    def open_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.status == "open"]


MAX_MESSAGES_SHOWN = 500


def load_conversation(session: Session, conversation_id: str) -> ConversationView:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("No such conversation.")
    rows = list(
        session.execute(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(MAX_MESSAGES_SHOWN + 1)
        ).scalars()
    )
    truncated = len(rows) > MAX_MESSAGES_SHOWN
    messages = [_message_view(m) for m in reversed(rows[:MAX_MESSAGES_SHOWN])]
    tasks = list(
        session.execute(
            select(Task).where(Task.conversation_id == conversation_id).order_by(Task.status.desc(), Task.id.desc())
        ).scalars()
    )
    by_id = {m.id: m for m in messages}
    held = [
        (t, by_id[t.message_id])
        for t in tasks
        if t.kind == "held_draft" and t.status == "open" and t.message_id in by_id
    ]
    vault_count = int(
        session.execute(
            select(func.count()).select_from(VaultEntry).where(VaultEntry.conversation_id == conversation_id)
        ).scalar_one()
    )
    return ConversationView(conversation, messages, tasks, held, vault_count, truncated=truncated)


def _message_view(m: Message) -> MessageView:
    text = m.text or ""
    if m.role == Role.CUSTOMER.value and m.status in ("received", "processing") and not text:
        text = "(not processed yet; the original is in the vault)"
    return MessageView(
        id=m.id,
        role=m.role,
        author=m.author,
        status=m.status,
        text=text,
        lane=m.lane,
        topic=m.topic,
        findings=[f for f in (m.findings or []) if isinstance(f, dict)],
        sources=[str(s) for s in (m.sources or [])],
        created_at=m.created_at,
        reply_to=m.reply_to,
        has_original=bool(m.original_encrypted),
    )


def reveal(session: Session, vault: Any, view: ConversationView, actor: Actor, reason: str = "") -> None:
    """Decrypt the conversation's originals (vault placeholders and messages as received) into `view`.

    Writes the audit event `staff.reveal` first, in the same transaction: no reveal without a record.
    """
    cid = view.conversation.id
    entries = repo.vault_entries(session, cid)
    originals = {
        m.id: m.original_encrypted
        for m in session.execute(
            select(Message).where(Message.conversation_id == cid, Message.original_encrypted.is_not(None))
        ).scalars()
    }
    audit.append(
        session,
        "staff.reveal",
        conversation_id=cid,
        actor=actor.username,
        data={
            "placeholders": sorted(e.placeholder for e in entries),
            "messages": sorted(originals),
            "reason": reason.strip()[:200],
        },
    )
    view.revealed = {e.placeholder: _decrypt(vault, e.ciphertext) for e in entries}
    for message in view.messages:
        token = originals.get(message.id)
        if token:
            message.original = _decrypt(vault, token)


def _decrypt(vault: Any, token: str) -> str:
    try:
        return str(vault.decrypt(token))
    except Exception:
        return "[cannot decrypt with the current vault key]"


# ---- actions ----------------------------------------------------------------------------------


def clean_staff_text(text: str, what: str, limit: int) -> str:
    """Text as staff typed or pasted it (NULs dropped, newlines normalised), or a 400 saying why not."""
    text = (text or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not text:
        raise InboxError(f"The {what} is empty.", 400)
    if len(text) > limit:
        raise InboxError(
            f"The {what} is too long ({len(text):,} characters; at most {limit:,}). Shorten it and try again.", 400
        )
    return text


def _open_task(session: Session, task_id: int, kind: str | None = None) -> Task:
    if not 0 < task_id <= MAX_ROW_ID:
        raise NotFound("No such task.")
    task = session.execute(select(Task).where(Task.id == task_id).with_for_update()).scalar_one_or_none()
    if task is None:
        raise NotFound("No such task.")
    if task.status != "open":
        raise InboxError("This task is already closed (someone else may have handled it).")
    if kind and task.kind != kind:
        raise InboxError(f"This task is not a {QUEUES.get(kind, kind).lower()} item.", 400)
    return task


def _held_message(session: Session, task: Task) -> Message:
    message = session.get(Message, task.message_id) if task.message_id else None
    if message is None or message.status != "held":
        raise InboxError("The held draft of this task is gone or was already handled.")
    return message


def _finish(task: Task, actor: Actor, resolution: str, **extra: Any) -> None:
    task.status = "done"
    task.closed_at = utcnow()
    task.data = {**(task.data or {}), "resolution": resolution, "by": actor.username, **extra}


def _conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("No such conversation.")
    return conversation


def reply(session: Session, conversation_id: str, text: str, actor: Actor) -> Message:
    """A person replies: a delivered staff message with the author's display name. The conversation
    stays with staff (the assistant does not answer over a person)."""
    conversation = _conversation(session, conversation_id)
    text = clean_staff_text(text, "reply", MAX_STAFF_TEXT)
    message = repo.add_message(
        session, conversation_id, Role.STAFF, text, status="delivered", author=actor.display_name
    )
    repo.touch(conversation, status="human", assigned_to=conversation.assigned_to or actor.username)
    audit.append(
        session,
        "staff.reply",
        conversation_id=conversation_id,
        actor=actor.username,
        data={"message": message.id, "chars": len(text)},
    )
    return message


def approve(session: Session, task_id: int, actor: Actor) -> Message:
    """Send a held AI draft unchanged."""
    task = _open_task(session, task_id, "held_draft")
    draft = _held_message(session, task)
    sent = repo.add_message(
        session,
        task.conversation_id,
        Role.ASSISTANT,
        placeholders_in_words(draft.text),  # the customer reads words, not a model's <PERSON_1>
        status="delivered",
        lane=draft.lane,
        topic=draft.topic,
        sources=list(draft.sources or []),
        reply_to=draft.id,
    )
    draft.status = DRAFT_APPROVED
    _finish(task, actor, "approved", delivered_message=sent.id)
    repo.touch(_conversation(session, task.conversation_id))
    audit.append(
        session,
        "staff.approve",
        conversation_id=task.conversation_id,
        actor=actor.username,
        data={"task": task.id, "draft": draft.id, "delivered": sent.id},
    )
    return sent


def edit_and_send(session: Session, task_id: int, text: str, actor: Actor) -> Message:
    """Send an edited version of a held draft, as the person who edited it."""
    task = _open_task(session, task_id, "held_draft")
    draft = _held_message(session, task)
    text = placeholders_in_words(clean_staff_text(text, "reply", MAX_STAFF_TEXT))
    sent = repo.add_message(
        session,
        task.conversation_id,
        Role.STAFF,
        text,
        status="delivered",
        author=actor.display_name,
        lane=draft.lane,
        topic=draft.topic,
        reply_to=draft.id,
    )
    draft.status = DRAFT_EDITED
    _finish(task, actor, "edited", delivered_message=sent.id)
    repo.touch(_conversation(session, task.conversation_id))
    audit.append(
        session,
        "staff.edit",
        conversation_id=task.conversation_id,
        actor=actor.username,
        data={"task": task.id, "draft": draft.id, "delivered": sent.id, "changed": text != draft.text.strip()},
    )
    return sent


def reject(session: Session, task_id: int, note: str, actor: Actor) -> None:
    """Reject a held draft with a note; the conversation goes to staff (the customer was told a person
    will follow up)."""
    task = _open_task(session, task_id, "held_draft")
    draft = _held_message(session, task)
    note = clean_staff_text(note, "note", MAX_NOTE)
    draft.status = DRAFT_REJECTED
    _finish(task, actor, "rejected", note=note)
    repo.touch(_conversation(session, task.conversation_id), status="human")
    # The customer still waits for the answer a person promised: the conversation stays in the inbox.
    repo.open_task(
        session,
        task.conversation_id,
        "handoff",
        f"held draft rejected ({note}); the customer is waiting for a reply from a person",
        draft.reply_to,
    )
    audit.append(
        session,
        "staff.reject",
        conversation_id=task.conversation_id,
        actor=actor.username,
        data={"task": task.id, "draft": draft.id, "note": note},
    )


def assign_to_me(session: Session, task_id: int, actor: Actor) -> None:
    task = _open_task(session, task_id)
    previous = task.assigned_to
    task.assigned_to = actor.username
    conversation = _conversation(session, task.conversation_id)
    conversation.assigned_to = actor.username
    audit.append(
        session,
        "staff.assign",
        conversation_id=task.conversation_id,
        actor=actor.username,
        data={"task": task.id, "previous": previous},
    )


def close_task(session: Session, task_id: int, actor: Actor, note: str = "") -> None:
    task = _open_task(session, task_id)
    if task.kind == "held_draft" and task.message_id:
        message = session.get(Message, task.message_id)
        if message is not None and message.status == "held":
            raise InboxError("Approve, edit or reject the held draft before closing this task.")
    note = (note or "").strip()[:MAX_NOTE]
    _finish(task, actor, "closed", **({"note": note} if note else {}))
    audit.append(
        session,
        "staff.close",
        conversation_id=task.conversation_id,
        actor=actor.username,
        data={"task": task.id, "kind": task.kind},
    )


def close_conversation(session: Session, conversation_id: str, actor: Actor) -> list[int]:
    """Close the conversation and its open tasks. Unhandled held drafts are rejected (never sent)."""
    conversation = _conversation(session, conversation_id)
    tasks = list(
        session.execute(
            select(Task).where(Task.conversation_id == conversation_id, Task.status == "open").with_for_update()
        ).scalars()
    )
    for task in tasks:
        if task.kind == "held_draft" and task.message_id:
            message = session.get(Message, task.message_id)
            if message is not None and message.status == "held":
                message.status = DRAFT_REJECTED
        _finish(task, actor, "closed with the conversation")
    repo.touch(conversation, status="closed")
    closed = [t.id for t in tasks]
    audit.append(
        session,
        "staff.close",
        conversation_id=conversation_id,
        actor=actor.username,
        data={"conversation": conversation_id, "tasks": closed},
    )
    return closed
