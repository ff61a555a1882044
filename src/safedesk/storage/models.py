"""SQLAlchemy 2 models. Schema changes go through Alembic migrations (storage/migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


# Conversation ids and idempotency keys: the width of their columns, and the limit the API and CLI check.
MAX_ID_CHARS = 200

# The largest row id either database stores (a signed 64-bit integer). An id from a URL above it is simply
# not there: checking first avoids an OverflowError from the driver.
MAX_ROW_ID = 2**63 - 1


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(MAX_ID_CHARS), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), default="api")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # open: the AI answers; human: handed to staff; closed: done
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    last_lane: Mapped[str | None] = mapped_column(String(20))
    last_topic: Mapped[str | None] = mapped_column(String(40))
    disclosed: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    assigned_to: Mapped[str | None] = mapped_column(String(100))
    verified_customer_id: Mapped[str | None] = mapped_column(String(100))

    messages: Mapped[list[Message]] = relationship(back_populates="conversation", order_by="Message.id")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "idempotency_key", name="uq_message_idempotency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # customer | assistant | staff
    # Customer messages: `original_encrypted` is the message as received (vault-encrypted, written
    # before any processing so nothing is lost); `text` is the redacted form, filled by the pipeline.
    text: Mapped[str] = mapped_column(Text, default="")
    original_encrypted: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(MAX_ID_CHARS))
    # customer: received | processed; assistant/staff: delivered | held, and a held draft after review:
    # approved | edited | rejected (the text sent is then a new delivered message replying to the draft)
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    lane: Mapped[str | None] = mapped_column(String(20))
    topic: Mapped[str | None] = mapped_column(String(40))
    findings: Mapped[list[Any]] = mapped_column(default=list)
    sources: Mapped[list[Any]] = mapped_column(default=list)
    author: Mapped[str | None] = mapped_column(String(100))  # staff display name for staff replies
    reply_to: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class VaultEntry(Base):
    """An original PII value behind a placeholder, encrypted with the business's vault key."""

    __tablename__ = "vault_entries"
    __table_args__ = (UniqueConstraint("conversation_id", "placeholder", name="uq_vault_placeholder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    placeholder: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Task(Base):
    """An inbox item for staff: a hand-off, a held draft, a verification task, a flagged attack."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_status_kind", "status", "kind"),
        Index("ix_tasks_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # handoff | held_draft | verification | attack | review
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | done
    message_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    assigned_to: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Append-only, hash-chained: `hash` covers this event's fields and the previous event's hash."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[str] = mapped_column(String(40))  # ISO-8601 UTC, part of the hashed content
    kind: Mapped[str] = mapped_column(String(60), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(MAX_ID_CHARS), index=True)
    actor: Mapped[str] = mapped_column(String(100), default="desk")
    data: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON, hashed as stored
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row: the chain's tip. Appenders lock it, so concurrent workers cannot fork the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer, default=0)
