"""Repository functions: the only place that writes conversations, messages, vault entries and tasks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safedesk.domain import HistoryItem, Lane, Role
from safedesk.storage.models import Conversation, Message, Task, VaultEntry


def get_or_create_conversation(session: Session, conversation_id: str, channel: str = "api") -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        conversation = Conversation(id=conversation_id, channel=channel)
        session.add(conversation)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # created by a concurrent request in between
            conversation = session.get(Conversation, conversation_id)
            assert conversation is not None
    return conversation


def lock_conversation(session: Session, conversation_id: str) -> None:
    """Serialise message inserts of one conversation until this transaction ends (a row lock on
    PostgreSQL; SQLite serialises writers already). Message ids come from a sequence at insert time, so
    without it a slow transaction could commit id N after a reader saw N+1, and a reader that polls with
    `id > last seen` (the chat widget) would never see message N."""
    session.execute(
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)  # and the row as it is once locked
    )


def find_by_idempotency_key(session: Session, conversation_id: str, key: str) -> Message | None:
    return session.execute(
        select(Message).where(Message.conversation_id == conversation_id, Message.idempotency_key == key)
    ).scalar_one_or_none()


def record_inbound(
    session: Session, conversation_id: str, original_encrypted: str, idempotency_key: str | None, channel: str
) -> tuple[Message, bool]:
    """Store a customer message as received and claimed for processing by this caller (status
    "processing"). Returns (message, created); a repeated key returns the first, unclaimed."""
    get_or_create_conversation(session, conversation_id, channel)
    lock_conversation(session, conversation_id)
    if idempotency_key:
        existing = find_by_idempotency_key(session, conversation_id, idempotency_key)
        if existing is not None:
            return existing, False
    message = Message(
        conversation_id=conversation_id,
        role=Role.CUSTOMER.value,
        original_encrypted=original_encrypted,
        idempotency_key=idempotency_key,
        status="processing",  # claimed by the caller in the same transaction
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # the same key arrived concurrently: the first one wins
        existing = find_by_idempotency_key(session, conversation_id, idempotency_key or "")
        if existing is None:
            raise
        return existing, False
    return message, True


def reply_to(session: Session, message_id: int) -> Message | None:
    """The reply the customer was sent for a message (not a held draft)."""
    return session.execute(
        select(Message).where(
            Message.reply_to == message_id, Message.role == Role.ASSISTANT.value, Message.status == "delivered"
        )
    ).scalar_one_or_none()


def has_held_draft(session: Session, message_id: int) -> bool:
    return (
        session.execute(
            select(Message.id).where(Message.reply_to == message_id, Message.status == "held").limit(1)
        ).first()
        is not None
    )


def history(session: Session, conversation_id: str, before_id: int, limit: int = 10) -> tuple[HistoryItem, ...]:
    """The redacted recent history of a conversation that a model may see, oldest first: only turns of the
    answer lane. A refused attack, a verified lookup's order details, staff replies and hand-offs never
    reach a model, not even as history (held drafts are excluded too)."""
    rows = (
        session.execute(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.id < before_id,
                Message.status.in_(("processed", "delivered")),
                Message.lane == Lane.ANSWER.value,
                Message.role.in_((Role.CUSTOMER.value, Role.ASSISTANT.value)),
            )
            .order_by(Message.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    return tuple(HistoryItem(Role(m.role), m.text) for m in reversed(rows))


def vault_entries(session: Session, conversation_id: str) -> list[VaultEntry]:
    return list(
        session.execute(select(VaultEntry).where(VaultEntry.conversation_id == conversation_id)).scalars().all()
    )


def add_vault_entry(
    session: Session, conversation_id: str, placeholder: str, entity_type: str, ciphertext: str
) -> None:
    session.add(
        VaultEntry(
            conversation_id=conversation_id, placeholder=placeholder, entity_type=entity_type, ciphertext=ciphertext
        )
    )


def add_message(session: Session, conversation_id: str, role: Role, text: str, **fields: Any) -> Message:
    lock_conversation(session, conversation_id)
    message = Message(conversation_id=conversation_id, role=role.value, text=text, **fields)
    session.add(message)
    session.flush()
    return message


def open_task(
    session: Session,
    conversation_id: str,
    kind: str,
    summary: str,
    message_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> Task:
    """Open an inbox item, unless one of the same kind is already open for the conversation. An open hand-off
    gathers the reasons of every turn that sent the conversation to a person (the first one stays first:
    it is why the customer is waiting); other kinds show their latest state."""
    existing = None
    if kind != "held_draft":  # each held draft is an item of its own: a conversation may have several
        existing = session.execute(
            select(Task).where(Task.conversation_id == conversation_id, Task.kind == kind, Task.status == "open")
        ).scalar_one_or_none()
    if existing is not None:
        existing.summary = _merge_reasons(existing.summary, summary) if kind == "handoff" else summary
        existing.data = {**existing.data, **(data or {})}
        return existing
    task = Task(conversation_id=conversation_id, kind=kind, summary=summary, message_id=message_id, data=data or {})
    session.add(task)
    session.flush()
    return task


def has_open_task(session: Session, conversation_id: str) -> bool:
    """Is the conversation in the staff inbox (any open task)?"""
    return (
        session.execute(
            select(Task.id).where(Task.conversation_id == conversation_id, Task.status == "open").limit(1)
        ).first()
        is not None
    )


MAX_SUMMARY_CHARS = 600


def _merge_reasons(old: str, new: str) -> str:
    """'a; b' + 'b; c' -> 'a; b; c'. When too long, the first reason and the latest ones are kept."""
    reasons = list(dict.fromkeys(r for r in (*old.split("; "), *new.split("; ")) if r.strip()))
    while len(reasons) > 2 and len("; ".join(reasons)) > MAX_SUMMARY_CHARS:
        del reasons[1]
    return "; ".join(reasons)[:MAX_SUMMARY_CHARS]


def touch(conversation: Conversation, **fields: Any) -> None:
    for key, value in fields.items():
        setattr(conversation, key, value)
    conversation.updated_at = datetime.now(UTC)
