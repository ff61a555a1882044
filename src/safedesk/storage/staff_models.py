"""SQLAlchemy models of the staff app: accounts, server-side sessions, login attempts, review items.

They live on the same `Base` as the desk's models, so `Base.metadata` (tests, Alembic) sees them
once this module is imported; the schema itself is created by migration 0003_staff.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safedesk.storage.models import Base, utcnow


class StaffUser(Base):
    """A member of staff. `role` is owner | agent; the password is an argon2id hash."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    # The TOTP secret, encrypted with the business's vault key (never stored in the clear).
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    # The last TOTP time step accepted: a code can be used once only (no replay within its window).
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    sessions: Mapped[list[StaffSession]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret_encrypted)


class StaffSession(Base):
    """A signed-in browser. Only the sha256 of the random cookie token is stored."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[StaffUser] = relationship(back_populates="sessions")


class LoginAttempt(Base):
    """One sign-in attempt (for the per-IP throttle and per-username lockout, known or not)."""

    __tablename__ = "staff_login_attempts"
    __table_args__ = (
        Index("ix_staff_login_attempts_ip_ts", "ip", "ts"),
        Index("ix_staff_login_attempts_username_ts", "username", "ts"),
        Index("ix_staff_login_attempts_ts", "ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewItem(Base):
    """An AI answer sampled for review; a reviewer marks it correct | incorrect | unsafe."""

    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_items_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | done
    verdict: Mapped[str | None] = mapped_column(String(20))  # correct | incorrect | unsafe
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffState(Base):
    """Small key/value state of the staff app (e.g. how far review sampling has scanned)."""

    __tablename__ = "staff_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
