"""Senders for one-time verification codes.

A `CodeSender` delivers a short text to a contact ON FILE (the verification desk never passes it an
address typed in a chat). `SmtpEmailSender` speaks real SMTP (smtplib, STARTTLS or implicit TLS, login
from SmtpConfig + an environment variable); `LogSender` appends to DIR/data/outbox.log, the demo's
stand-in for email and SMS. `RoutingSender` picks a sender per contact kind and `BackgroundSender`
delivers off the request thread, so a customer cannot time the reply to learn whether a record exists.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from safedesk.config import SmtpConfig, VerificationConfig
from safedesk.errors import VerificationError

log = logging.getLogger(__name__)

ContactKind = Literal["email", "phone"]
OUTBOX_FILE = "outbox.log"


class DeliveryError(VerificationError):
    """A code could not be handed to the mail server (or other transport)."""


@dataclass(frozen=True, slots=True)
class Contact:
    """Where a code goes: always a contact from the customer record, never one given in a chat."""

    kind: ContactKind
    address: str = field(repr=False)


@runtime_checkable
class CodeSender(Protocol):
    name: str

    def can_send(self, kind: ContactKind) -> bool: ...

    def send(self, to: Contact, subject: str, body: str) -> None:
        """Deliver or raise DeliveryError."""
        ...


class SmtpEmailSender:
    """Email over SMTP. The password comes from the environment variable SmtpConfig.password_env."""

    name = "smtp"

    def __init__(self, config: SmtpConfig, password: str | None = None) -> None:
        if config.ssl and config.starttls:
            raise VerificationError("smtp: choose either ssl (implicit TLS) or starttls, not both")
        self.config = config
        self._password = password if password is not None else os.environ.get(config.password_env, "")

    def can_send(self, kind: ContactKind) -> bool:
        return kind == "email"

    def send(self, to: Contact, subject: str, body: str) -> None:
        if to.kind != "email":
            raise DeliveryError(f"smtp cannot deliver to a {to.kind}")
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = to.address
        message["Subject"] = subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or "localhost")
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        cfg = self.config
        try:
            if cfg.ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
            with client:
                if cfg.starttls:
                    client.starttls(context=ssl.create_default_context())
                if cfg.username:
                    client.login(cfg.username, self._password)
                refused = client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"smtp {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}") from None
        if refused:
            raise DeliveryError(f"smtp {cfg.host}:{cfg.port}: recipient refused")


class LogSender:
    """Appends each message as a JSON line to a file (DIR/data/outbox.log): the demo's email and SMS."""

    name = "log"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def can_send(self, kind: ContactKind) -> bool:
        return kind in ("email", "phone")

    def send(self, to: Contact, subject: str, body: str) -> None:
        line = json.dumps(
            {
                "ts": datetime.now(UTC).isoformat(timespec="seconds"),
                "channel": to.kind,
                "to": to.address,
                "subject": subject,
                "body": body,
            },
            ensure_ascii=False,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as handle:
                    handle.write(line + "\n")
        except OSError as exc:
            raise DeliveryError(f"outbox {self.path}: {exc}") from None


class RoutingSender:
    """One sender per contact kind, e.g. email via SMTP and SMS via the outbox log."""

    name = "routing"

    def __init__(self, senders: Mapping[ContactKind, CodeSender]) -> None:
        self.senders = dict(senders)

    def can_send(self, kind: ContactKind) -> bool:
        return kind in self.senders

    def send(self, to: Contact, subject: str, body: str) -> None:
        sender = self.senders.get(to.kind)
        if sender is None:
            raise DeliveryError(f"no sender for {to.kind}")
        sender.send(to, subject, body)


class BackgroundSender:
    """Hands messages to `inner` on a worker thread and returns at once.

    The customer's reply then takes the same time whether or not a code was sent, so response time
    does not tell whether an account exists. Failures go to `on_error` (default: the log).
    """

    def __init__(self, inner: CodeSender, on_error: Callable[[Contact, Exception], None] | None = None) -> None:
        self.inner = inner
        self.name = f"background({inner.name})"
        self.on_error = on_error or (lambda to, exc: log.error("verification code not delivered: %s", exc))
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="code-sender")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def can_send(self, kind: ContactKind) -> bool:
        return self.inner.can_send(kind)

    def send(self, to: Contact, subject: str, body: str) -> None:
        future = self._pool.submit(self._deliver, to, subject, body)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _deliver(self, to: Contact, subject: str, body: str) -> None:
        try:
            self.inner.send(to, subject, body)
        except Exception as exc:  # reported, never raised into a worker thread
            self.on_error(to, exc)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for queued messages; True when all were handled."""
        with self._lock:
            pending = set(self._pending)
        _, not_done = wait(pending, timeout=timeout)
        return not not_done

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def build_sender(config: VerificationConfig, data_dir: Path, *, background: bool = True) -> CodeSender:
    """The senders safedesk.yaml asks for: email via SMTP or the outbox log; SMS via the outbox log."""
    outbox = LogSender(data_dir / OUTBOX_FILE)
    if config.email_transport == "smtp":
        smtp = SmtpEmailSender(config.smtp)
        routing = RoutingSender({"email": smtp, "phone": outbox})
        return BackgroundSender(routing) if background else routing
    return RoutingSender({"email": outbox, "phone": outbox})
