"""Tables of identity verification (migration 0002_verification). Times are epoch seconds from the
verification desk's clock, so tests can move time. No code is ever stored in plain text."""

from __future__ import annotations

from sqlalchemy import Boolean, Double, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safedesk.storage.models import Base


class VerificationState(Base):
    """Where one conversation stands: awaiting_identifier | code_sent | verified | locked | handed_off."""

    __tablename__ = "verification_states"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(20))
    # The record the customer named (None when nothing matched: the conversation then behaves the
    # same, so the customer cannot tell whether an account exists).
    customer_id: Mapped[str | None] = mapped_column(String(100))
    topic: Mapped[str] = mapped_column(String(40))  # the request that needs a verified identity
    request_text: Mapped[str] = mapped_column(Text, default="")  # that request, redacted
    request_message_id: Mapped[int | None] = mapped_column(Integer)
    code_hash: Mapped[str | None] = mapped_column(String(64))  # HMAC-SHA256 hex; None once used or void
    code_expires_at: Mapped[float | None] = mapped_column(Double)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes in this conversation
    verified_at: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class VerificationRequest(Base):
    """One request for a code (sent or not), for the per-conversation and per-record rate limits."""

    __tablename__ = "verification_requests"
    __table_args__ = (
        Index("ix_verification_requests_customer_time", "customer_id", "requested_at"),
        Index("ix_verification_requests_conversation_time", "conversation_id", "requested_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[str | None] = mapped_column(String(100))
    requested_at: Mapped[float] = mapped_column(Double)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
