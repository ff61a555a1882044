"""Identity verification: codes to the contact on file, attempts, expiry, lockout, rate limits, lookups.

Real SQLite database (migrated by Alembic), real SMTP (aiosmtpd on loopback) where mail is involved,
and a clock the tests move.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import stat
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, inspect, select, text

from safedesk import audit
from safedesk import verification as verification_module
from safedesk.config import SmtpConfig, VerificationConfig
from safedesk.customers import CustomerDirectory, normalize_order_id
from safedesk.domain import Lane, Topic
from safedesk.errors import ConfigError, VerificationError
from safedesk.notify import (
    BackgroundSender,
    Contact,
    DeliveryError,
    LogSender,
    RoutingSender,
    SmtpEmailSender,
    build_sender,
)
from safedesk.storage.db import Database
from safedesk.storage.models import AuditEvent, Conversation, Task
from safedesk.storage.verification_models import VerificationRequest, VerificationState
from safedesk.verification import (
    ALLOWED_LOOKUP_FIELDS,
    ASK_IDENTIFIER,
    CODE_SENT,
    EXPIRED,
    LOCKED,
    LOST_ACCESS,
    NOT_YOUR_ORDER,
    STILL_LOCKED,
    TOO_MANY_CODES,
    VerificationDesk,
    VerifyOutcome,
    VerifyStage,
    load_or_create_secret,
    scan_text,
)

REGIONS = ("NO", "SE", "DK", "DE")
KEY = b"k" * 32
CSV = """id,name,email,phone,order_id,order_status,delivery_date
C-1,Kari Nordmann,Kari.Nordmann@example.com,+47 912 34 567,NO-240518,shipped,2025-05-22
C-1,Kari Nordmann,Kari.Nordmann@example.com,+47 912 34 567,NO-240600,processing,
C-2,Ola Hansen,ola.hansen@example.org,+47 934 56 789,NO-240527,processing,2025-05-30
C-3,Sms Only,,+46 70 123 45 67,SE-240541,delivered,2025-05-19
"""
ATTACKER = "attacker@evil.example"


# ---- fixtures -----------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSender:
    name = "recording"

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[Contact, str, str]] = []
        self.fail = fail

    def can_send(self, kind: str) -> bool:
        return True

    def send(self, to: Contact, subject: str, body: str) -> None:
        if self.fail:
            raise DeliveryError("mail server down")
        self.sent.append((to, subject, body))

    def addresses(self) -> list[str]:
        return [to.address for to, _, _ in self.sent]

    def last_code(self) -> str:
        return code_in(self.sent[-1][2])


def code_in(body: str) -> str:
    match = re.search(r"verification code is (\d+)", body)
    assert match, body
    return match.group(1)


class Inbox:
    """An aiosmtpd handler that keeps every delivered message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append(([r.lower() for r in envelope.rcpt_tos], message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpts, m in self.messages if address.lower() in rcpts]

    def recipients(self) -> set[str]:
        return {r for rcpts, _ in self.messages for r in rcpts}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpConfig, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpConfig(host="127.0.0.1", port=controller.port, sender="no-reply@shop.example"), inbox
    finally:
        controller.stop()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'desk.db'}")
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def customers(tmp_path: Path) -> CustomerDirectory:
    path = tmp_path / "customers.csv"
    path.write_text(CSV, encoding="utf-8")
    return CustomerDirectory.load(path, regions=REGIONS)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


def make_desk(customers: CustomerDirectory, sender: Any, clock: Clock, **config: Any) -> VerificationDesk:
    return VerificationDesk(VerificationConfig(**config), customers, sender, KEY, clock, business_name="Test Shop")


@pytest.fixture
def desk(customers: CustomerDirectory, sender: RecordingSender, clock: Clock) -> VerificationDesk:
    return make_desk(customers, sender, clock)


def say(
    db: Database, desk: VerificationDesk, cid: str, text: str, topic: Topic = Topic.OTHER, redacted: str | None = None
) -> VerifyOutcome:
    with db.session() as session:
        return desk.handle(session, cid, text, topic, redacted=redacted)


def state_of(db: Database, cid: str) -> VerificationState:
    with db.session() as session:
        state = session.get(VerificationState, cid)
        assert state is not None
        return state


def tasks_of(db: Database, cid: str) -> list[Task]:
    with db.session() as session:
        return list(session.execute(select(Task).where(Task.conversation_id == cid)).scalars())


def audit_kinds(db: Database, cid: str) -> list[str]:
    with db.session() as session:
        return list(
            session.execute(
                select(AuditEvent.kind).where(AuditEvent.conversation_id == cid).order_by(AuditEvent.id)
            ).scalars()
        )


def start(
    db: Database,
    desk: VerificationDesk,
    cid: str,
    identifier: str = "kari.nordmann@example.com",
    topic: Topic = Topic.ORDER_STATUS,
) -> VerifyOutcome:
    return say(db, desk, cid, f"Hi, it's about my order. My email is {identifier}", topic)


# ---- codes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("digits", [6, 7, 8, 10])
def test_code_has_the_configured_number_of_digits_and_comes_from_secrets(
    db: Database,
    customers: CustomerDirectory,
    sender: RecordingSender,
    clock: Clock,
    digits: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    real = verification_module.secrets.randbelow
    monkeypatch.setattr(verification_module.secrets, "randbelow", lambda n: calls.append(n) or real(n))
    desk = make_desk(customers, sender, clock, code_digits=digits)
    start(db, desk, "c-format")
    ((_contact, subject, body),) = sender.sent
    code = code_in(body)
    assert re.fullmatch(rf"\d{{{digits}}}", code)
    assert calls == [10**digits]
    assert "Test Shop" in subject and "expires in 10 minutes" in body


def test_codes_differ_between_requests(db: Database, desk: VerificationDesk, sender: RecordingSender) -> None:
    for i in range(3):
        start(db, desk, f"c-many-{i}", identifier="ola.hansen@example.org")
    assert len({code_in(body) for _, _, body in sender.sent}) == 3


def test_right_code_verifies_once_and_then_answers_the_original_request(
    db: Database, desk: VerificationDesk, sender: RecordingSender
) -> None:
    start(db, desk, "c-ok")
    code = sender.last_code()
    outcome = say(db, desk, "c-ok", f"the code is {code}")
    assert outcome.stage is VerifyStage.VERIFIED and outcome.verified_customer_id == "C-1"
    assert outcome.lane is Lane.VERIFY and outcome.topic is Topic.ORDER_STATUS
    assert outcome.reply.startswith("Thank you, you're verified.")
    assert "Your order NO-240518 is shipped; expected delivery 2025-05-22." in outcome.reply
    assert "Your order NO-240600 is processing." in outcome.reply
    assert outcome.stored_text == "the code is <CODE>"
    with db.session() as session:
        assert session.get(Conversation, "c-ok").verified_customer_id == "C-1"  # type: ignore[union-attr]
        assert desk.verified_customer(session, "c-ok") == "C-1"
    assert state_of(db, "c-ok").code_hash is None  # single use: nothing left to match
    assert "verify.verified" in audit_kinds(db, "c-ok")


def test_a_code_works_once_only(db: Database, desk: VerificationDesk, sender: RecordingSender, clock: Clock) -> None:
    start(db, desk, "c-once")
    code = sender.last_code()
    assert say(db, desk, "c-once", code).stage is VerifyStage.VERIFIED
    # The verified session runs out; the same code cannot verify again.
    clock.advance(verification_module.VERIFIED_TTL_SECONDS + 1)
    start(db, desk, "c-once")
    again = say(db, desk, "c-once", code)
    assert again.stage is VerifyStage.CODE_SENT and again.verified_customer_id is None
    # Nor in another conversation for the same customer.
    start(db, desk, "c-once-other")
    assert say(db, desk, "c-once-other", code).verified_customer_id is None


def test_code_expires(db: Database, desk: VerificationDesk, sender: RecordingSender, clock: Clock) -> None:
    start(db, desk, "c-exp")
    code = sender.last_code()
    clock.advance(600)
    outcome = say(db, desk, "c-exp", code)
    assert outcome.reply == EXPIRED and outcome.verified_customer_id is None
    assert say(db, desk, "c-exp", code).reply == EXPIRED  # still no good
    assert state_of(db, "c-exp").attempts == 0  # an expired code is not a wrong guess
    resent = say(db, desk, "c-exp", "resend please")
    assert resent.stage is VerifyStage.CODE_SENT and len(sender.sent) == 2
    assert say(db, desk, "c-exp", sender.last_code()).verified_customer_id == "C-1"


def test_five_wrong_codes_lock_alert_staff_and_void_the_right_code(
    db: Database, desk: VerificationDesk, sender: RecordingSender
) -> None:
    start(db, desk, "c-lock")
    right = sender.last_code()
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    replies = [say(db, desk, "c-lock", wrong) for _ in range(5)]
    assert [r.reply for r in replies[:4]] == [
        f"That code doesn't match. Please check it and try again ({n} {'attempt' if n == 1 else 'attempts'} left)."
        for n in (4, 3, 2, 1)
    ]
    locked = replies[4]
    assert locked.reply == LOCKED and locked.lane is Lane.HUMAN and locked.stage is VerifyStage.LOCKED
    assert locked.task is not None and locked.task.summary == "locked after 5 wrong codes"
    (task,) = tasks_of(db, "c-lock")
    assert (task.kind, task.summary, task.status) == ("verification", "locked after 5 wrong codes", "open")
    assert task.data["customer_id"] == "C-1" and task.data["identity_verified"] is False
    assert "verify.locked" in audit_kinds(db, "c-lock")
    with db.session() as session:
        conversation = session.get(Conversation, "c-lock")
        assert conversation is not None and conversation.status == "human" and conversation.flagged
        assert not desk.pending(session, "c-lock")
    after = say(db, desk, "c-lock", right)
    assert after.reply == STILL_LOCKED and after.verified_customer_id is None
    assert say(db, desk, "c-lock", "resend").reply == STILL_LOCKED
    assert len(sender.sent) == 1


# ---- the reply never tells whether an account exists ---------------------------------------------------------

SAME_REPLY_CASES = [
    ("my email is Kari.Nordmann@EXAMPLE.com", True),
    ("my email is nobody@example.com", False),
    ("where is my order no-240518?", True),
    ("where is my order NO-999999?", False),
    ("call me on 912 34 567", True),
    ("call me on +47 400 00 000", False),
]


@pytest.mark.parametrize(("text", "exists"), SAME_REPLY_CASES)
def test_same_reply_whether_or_not_the_account_exists(
    db: Database, desk: VerificationDesk, sender: RecordingSender, text: str, exists: bool
) -> None:
    outcome = say(db, desk, "c-same", text, Topic.ORDER_STATUS)
    assert outcome.reply == CODE_SENT
    assert outcome.reply == (
        "If we have an account for that email or order, we have sent a code to the contact details we have on "
        "file. Please type the code here."
    )
    assert outcome.stage is VerifyStage.CODE_SENT and outcome.lane is Lane.VERIFY
    assert sender.addresses() == (["kari.nordmann@example.com"] if exists else [])


def test_unknown_and_known_accounts_behave_alike_through_to_lockout(
    db: Database, desk: VerificationDesk, clock: Clock
) -> None:
    def script(cid: str, identifier: str) -> list[str]:
        out = [start(db, desk, cid, identifier).reply]
        out.append(say(db, desk, cid, "hello?").reply)
        out += [say(db, desk, cid, "000000").reply for _ in range(2)]
        clock.advance(700)
        out.append(say(db, desk, cid, "000000").reply)  # expired
        out.append(say(db, desk, cid, "resend").reply)
        out += [say(db, desk, cid, "000001").reply for _ in range(3)]
        return out

    assert script("c-known", "kari.nordmann@example.com") == script("c-unknown", "ghost@example.com")


def test_ambiguous_identifiers_send_nothing(db: Database, desk: VerificationDesk, sender: RecordingSender) -> None:
    outcome = say(db, desk, "c-amb", "I'm kari.nordmann@example.com and my order is NO-240527")
    assert outcome.reply == CODE_SENT and sender.sent == []
    assert "verify.ambiguous" in audit_kinds(db, "c-amb")


# ---- codes go only to the contact on file ---------------------------------------------------------------------

CHAT_ADDRESS_CASES = [
    # (message, on-file address that may receive a code or None)
    (
        f"Please change my email to {ATTACKER}. My current email is kari.nordmann@example.com",
        "kari.nordmann@example.com",
    ),
    (f"change my email kari.nordmann@example.com to {ATTACKER}", "kari.nordmann@example.com"),
    (f"My new email is {ATTACKER}, order NO-240518", "kari.nordmann@example.com"),
    (f"my email is {ATTACKER}", None),
    (f"Update my account: new email {ATTACKER}", None),
    (f"I'm Ola, send the code to {ATTACKER}", None),
    (f"order NO-240527, send the verification code to {ATTACKER} please", None),
]


@pytest.mark.parametrize(("text", "on_file"), CHAT_ADDRESS_CASES)
def test_code_never_goes_to_an_address_given_in_the_chat(
    db: Database,
    customers: CustomerDirectory,
    clock: Clock,
    smtp: tuple[SmtpConfig, Inbox],
    text: str,
    on_file: str | None,
) -> None:
    config, inbox = smtp
    desk = make_desk(customers, SmtpEmailSender(config), clock)
    say(db, desk, "c-chat", text, Topic.ACCOUNT_CHANGE)
    say(db, desk, "c-chat", f"resend it to {ATTACKER}")
    say(db, desk, "c-chat", "resend")
    assert inbox.to(ATTACKER) == []
    assert ATTACKER not in inbox.recipients()
    assert inbox.recipients() <= ({on_file} if on_file else set())


def test_contact_change_verifies_through_the_old_contact_and_goes_to_a_person(
    db: Database, customers: CustomerDirectory, clock: Clock, smtp: tuple[SmtpConfig, Inbox]
) -> None:
    config, inbox = smtp
    desk = make_desk(customers, SmtpEmailSender(config), clock)
    text = f"Please change my email to {ATTACKER}. My order is NO-240518."
    first = say(
        db,
        desk,
        "c-change",
        text,
        Topic.ACCOUNT_CHANGE,
        redacted="Please change my email to <EMAIL_ADDRESS_1>. My order is NO-240518.",
    )
    assert first.reply == CODE_SENT
    (mail,) = inbox.to("kari.nordmann@example.com")
    assert mail["From"] == "no-reply@shop.example" and "verification code" in mail["Subject"]
    code = code_in(mail.get_content())
    done = say(db, desk, "c-change", code)
    assert done.verified_customer_id == "C-1" and done.lane is Lane.HUMAN
    assert "passed your request to a member of our team" in done.reply
    assert done.task is not None and done.task.data == {
        "identity_verified": True,
        "customer_id": "C-1",
        "request": "account_change",
        "text": "Please change my email to <EMAIL_ADDRESS_1>. My order is NO-240518.",
    }
    (task,) = tasks_of(db, "c-change")
    assert task.kind == "verification" and task.summary.startswith("identity verified")
    assert inbox.recipients() == {"kari.nordmann@example.com"}


@pytest.mark.parametrize("with_code", ["{code} (my order is NO-240518)", "{code}, where is my order?"])
def test_the_request_a_code_was_sent_for_is_not_replaced_by_the_code_message(
    db: Database, desk: VerificationDesk, sender: RecordingSender, with_code: str
) -> None:
    """Found by a bug hunt: a code message that mentioned an order answered the order and silently dropped
    the pending email change."""
    say(db, desk, "c-keep", "I want to change my email address. My current one is kari.nordmann@example.com",
        Topic.ACCOUNT_CHANGE)  # fmt: skip
    done = say(db, desk, "c-keep", with_code.format(code=sender.last_code()), Topic.ORDER_STATUS)
    assert done.verified_customer_id == "C-1" and done.lane is Lane.HUMAN
    assert done.task is not None and done.task.data["request"] == "account_change"
    (task,) = tasks_of(db, "c-keep")
    assert task.kind == "verification" and "account change needs a person" in task.summary


def test_phone_only_customer_gets_the_code_on_the_phone_on_file(
    db: Database, desk: VerificationDesk, sender: RecordingSender
) -> None:
    say(db, desk, "c-sms", "order SE-240541, and text it to +47 400 00 000", Topic.ORDER_STATUS)
    assert sender.sent == []  # "text it to <new number>": a person, no code
    say(db, desk, "c-sms2", "where is order SE-240541?", Topic.ORDER_STATUS)
    ((contact, _, _),) = sender.sent
    assert (contact.kind, contact.address) == ("phone", "+46701234567")


LOST_ACCESS_CASES = [
    f"I lost access to my email, please send the code to {ATTACKER}",
    "I don't have access to that email anymore, my order is NO-240518",
    "My phone was stolen, can you send it elsewhere?",
    "Can you send the code to my work email instead?",
    f"I can't open my old inbox. Use this address instead: {ATTACKER}",
    "I no longer use that number, text me at +47 400 00 000",
    "my email got hacked, order NO-240518",
]


@pytest.mark.parametrize("text", LOST_ACCESS_CASES)
def test_lost_access_goes_to_a_person_and_no_code_is_sent(
    db: Database, desk: VerificationDesk, sender: RecordingSender, text: str
) -> None:
    outcome = say(db, desk, "c-lost", text, Topic.ACCOUNT_ACCESS)
    assert outcome.reply == LOST_ACCESS and outcome.lane is Lane.HUMAN
    assert outcome.stage is VerifyStage.HANDED_OFF
    (task,) = tasks_of(db, "c-lost")
    assert task.kind == "verification" and task.data["reason"] == "lost_access"
    assert task.data["identity_verified"] is False
    # Even naming an account afterwards sends nothing: staff verify another way.
    assert say(db, desk, "c-lost", "kari.nordmann@example.com").lane is Lane.HUMAN
    assert sender.sent == []


def test_lost_access_after_a_code_was_sent_voids_it(
    db: Database, desk: VerificationDesk, sender: RecordingSender
) -> None:
    start(db, desk, "c-lost2")
    code = sender.last_code()
    assert say(db, desk, "c-lost2", f"I never got it, send it to {ATTACKER}").lane is Lane.HUMAN
    assert say(db, desk, "c-lost2", code).verified_customer_id is None
    assert sender.addresses() == ["kari.nordmann@example.com"]


# ---- rate limits ------------------------------------------------------------------------------------------------


def test_codes_are_rate_limited_per_conversation(
    db: Database, desk: VerificationDesk, sender: RecordingSender, clock: Clock
) -> None:
    start(db, desk, "c-rate")
    assert say(db, desk, "c-rate", "I didn't get it").reply.startswith("If we have an account")
    assert say(db, desk, "c-rate", "resend").reply.startswith("If we have an account")
    limited = say(db, desk, "c-rate", "resend")
    assert limited.reply == TOO_MANY_CODES and len(sender.sent) == 3
    assert say(db, desk, "c-rate", "my order is NO-240527").reply == TOO_MANY_CODES  # nor for another record
    assert len(sender.sent) == 3
    # The newest code still works while rate-limited.
    assert say(db, desk, "c-rate", sender.last_code()).verified_customer_id == "C-1"
    clock.advance(3601)
    start(db, desk, "c-rate-later")
    assert len(sender.sent) == 4


def test_unknown_identifiers_count_towards_the_conversation_limit(
    db: Database, desk: VerificationDesk, sender: RecordingSender
) -> None:
    for name in ("a", "b", "c"):
        assert say(db, desk, "c-enum", f"{name}@nowhere.example").reply == CODE_SENT
    assert say(db, desk, "c-enum", "kari.nordmann@example.com").reply == TOO_MANY_CODES
    assert sender.sent == []


def test_codes_are_rate_limited_per_record_without_telling_the_customer(
    db: Database, desk: VerificationDesk, sender: RecordingSender
) -> None:
    for i in range(3):
        start(db, desk, f"c-rec-{i}")
    fourth = start(db, desk, "c-rec-3")
    assert fourth.reply == CODE_SENT  # the same words: no hint that the account exists or is busy
    assert len(sender.sent) == 3
    with db.session() as session:
        rows = session.execute(select(VerificationRequest).where(VerificationRequest.customer_id == "C-1"))
        assert [r.sent for r in rows.scalars()] == [True, True, True, False]
    assert "verify.rate_limited" in audit_kinds(db, "c-rec-3")
    # Another customer is not affected.
    start(db, desk, "c-rec-ola", identifier="ola.hansen@example.org")
    assert sender.addresses()[-1] == "ola.hansen@example.org"


# ---- how codes are checked and stored ---------------------------------------------------------------------------


def test_codes_are_compared_in_constant_time(
    db: Database, desk: VerificationDesk, sender: RecordingSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(verification_module.hmac, "compare_digest", spy)
    start(db, desk, "c-ct")
    say(db, desk, "c-ct", "000000")
    say(db, desk, "c-ct", sender.last_code())
    start(db, desk, "c-ct-unknown", identifier="ghost@example.com")
    say(db, desk, "c-ct-unknown", "000000")  # no code was sent: still one comparison of equal cost
    assert len(calls) == 3
    assert all(len(a) == len(b) == 64 for a, b in calls)


def test_codes_are_stored_only_as_keyed_hashes(
    db: Database, desk: VerificationDesk, sender: RecordingSender, tmp_path: Path
) -> None:
    start(db, desk, "c-hash")
    code = sender.last_code()
    state = state_of(db, "c-hash")
    assert state.code_hash == hmac.new(KEY, f"c-hash\x00C-1\x00{code}".encode(), hashlib.sha256).hexdigest()
    say(db, desk, "c-hash", "000000")
    dump = []
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            dump += [repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))]  # noqa: S608
    assert dump and not any(code in row for row in dump)
    raw = (tmp_path / "desk.db").read_bytes() + (tmp_path / "desk.db-wal").read_bytes()
    assert code.encode() not in raw


def test_secret_key_is_created_once_with_private_permissions(tmp_path: Path) -> None:
    path = tmp_path / "data" / "verification.key"
    key = load_or_create_secret(path)
    assert len(key) == 32 and load_or_create_secret(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_bytes(b"short")
    with pytest.raises(ConfigError):
        load_or_create_secret(path)
    with pytest.raises(VerificationError):
        VerificationDesk(VerificationConfig(), CustomerDirectory(), RecordingSender(), b"short")


# ---- after verification: narrow lookups, everything else to a person ------------------------------------------------


def test_lookup_returns_only_allowed_fields(desk: VerificationDesk) -> None:
    assert ALLOWED_LOOKUP_FIELDS == {"order_status", "delivery_date"}
    rows = desk.lookup("C-1")
    assert rows == [
        {"order_id": "NO-240518", "order_status": "shipped", "delivery_date": "2025-05-22"},
        {"order_id": "NO-240600", "order_status": "processing", "delivery_date": ""},
    ]
    assert desk.lookup("C-1", "no 240518", fields={"order_status"}) == [
        {"order_id": "NO-240518", "order_status": "shipped"}
    ]
    assert desk.lookup("C-1", "NO-240527") == []  # someone else's order
    for forbidden in ({"email"}, {"phone"}, {"name"}, {"order_status", "email"}, {"id"}):
        with pytest.raises(VerificationError):
            desk.lookup("C-1", fields=forbidden)


def test_verified_customer_gets_own_order_status_and_nothing_else(
    db: Database, desk: VerificationDesk, sender: RecordingSender
) -> None:
    start(db, desk, "c-look")
    say(db, desk, "c-look", sender.last_code())
    mine = say(db, desk, "c-look", "and where is NO-240518?", Topic.ORDER_STATUS)
    assert mine.reply == "Your order NO-240518 is shipped; expected delivery 2025-05-22."
    for secret in ("Kari", "Nordmann", "example.com", "912", "C-1"):
        assert secret not in mine.reply
    other = say(db, desk, "c-look", "what about order NO-240527?", Topic.ORDER_STATUS)
    assert other.reply == NOT_YOUR_ORDER and "processing" not in other.reply
    missing = say(db, desk, "c-look", "and order NO-999999?", Topic.ORDER_STATUS)
    assert missing.reply == NOT_YOUR_ORDER  # unknown and someone else's look the same
    assert audit_kinds(db, "c-look").count("verify.lookup") == 2


SENSITIVE_TOPICS = [
    (Topic.ACCOUNT_ACCESS, "I need to reset my password"),
    (Topic.ACCOUNT_CHANGE, "change my phone number please"),
    (Topic.PAYMENT_METHOD_CHANGE, "I want to pay with a different card"),
    (Topic.PAYMENT_ISSUE, "update my bank account for the refund"),
    (Topic.REFUND, "refund my order"),
    (Topic.CANCEL_ORDER, "cancel my order"),
    (Topic.ORDER_CHANGE, "add a second jacket to my order"),
    (Topic.SHIPPING_ADDRESS_CHANGE, "ship it to another address"),
    (Topic.DELETE_ACCOUNT_OR_DATA, "delete my account"),
]


@pytest.mark.parametrize(("topic", "request_text"), SENSITIVE_TOPICS)
def test_sensitive_requests_are_never_performed_but_become_a_staff_task(
    db: Database, desk: VerificationDesk, sender: RecordingSender, topic: Topic, request_text: str
) -> None:
    first = say(db, desk, "c-sens", request_text, topic)
    assert first.reply == ASK_IDENTIFIER and first.topic is topic and sender.sent == []
    assert say(db, desk, "c-sens", "kari.nordmann@example.com").reply == CODE_SENT
    done = say(db, desk, "c-sens", sender.last_code())
    assert done.lane is Lane.HUMAN and done.verified_customer_id == "C-1" and done.topic is topic
    assert "member of our team" in done.reply and "will finish it" in done.reply
    (task,) = tasks_of(db, "c-sens")
    assert task.kind == "verification"
    assert task.data == {"identity_verified": True, "customer_id": "C-1", "request": topic.value, "text": request_text}
    with db.session() as session:
        assert session.get(Conversation, "c-sens").status == "human"  # type: ignore[union-attr]


def test_task_text_is_the_redacted_request_never_the_original(
    db: Database, desk: VerificationDesk, sender: RecordingSender
) -> None:
    say(
        db,
        desk,
        "c-red",
        f"change my email to {ATTACKER}, I'm NO-240518",
        Topic.ACCOUNT_CHANGE,
        redacted="change my email to <EMAIL_1>, I'm NO-240518",
    )
    say(db, desk, "c-red", sender.last_code())
    (task,) = tasks_of(db, "c-red")
    assert task.data["text"] == "change my email to <EMAIL_1>, I'm NO-240518"
    # Without a redacted form the desk masks contacts itself.
    say(db, desk, "c-red2", f"change my email to {ATTACKER}, I'm NO-240518", Topic.ACCOUNT_CHANGE)
    say(db, desk, "c-red2", sender.last_code())
    (task2,) = tasks_of(db, "c-red2")
    assert ATTACKER not in json.dumps(task2.data)


# ---- conversation flow -------------------------------------------------------------------------------------------


def test_asks_for_an_identifier_then_keeps_the_original_request(
    db: Database, desk: VerificationDesk, sender: RecordingSender
) -> None:
    assert say(db, desk, "c-flow", "where is my parcel?", Topic.ORDER_STATUS).reply == ASK_IDENTIFIER
    with db.session() as session:
        assert desk.pending(session, "c-flow")
    assert say(db, desk, "c-flow", "it's kari.nordmann@example.com", Topic.ACCOUNT_CHANGE).reply == CODE_SENT
    assert "Please type the 6-digit code" in say(db, desk, "c-flow", "ok, waiting").reply
    done = say(db, desk, "c-flow", f"{sender.last_code()[:3]} {sender.last_code()[3:]}")
    assert done.topic is Topic.ORDER_STATUS and "NO-240518 is shipped" in done.reply


def test_several_codes_in_one_message_are_not_a_guess(
    db: Database, desk: VerificationDesk, sender: RecordingSender
) -> None:
    start(db, desk, "c-multi")
    code = sender.last_code()
    outcome = say(db, desk, "c-multi", f"111111 or {code} or 222222")
    assert outcome.verified_customer_id is None and state_of(db, "c-multi").attempts == 0


def test_an_idle_verification_starts_over(
    db: Database, desk: VerificationDesk, sender: RecordingSender, clock: Clock
) -> None:
    start(db, desk, "c-idle")
    code = sender.last_code()
    clock.advance(verification_module.STALE_AFTER_SECONDS + 1)
    with db.session() as session:
        assert not desk.pending(session, "c-idle")
    outcome = say(db, desk, "c-idle", code)
    assert outcome.verified_customer_id is None and outcome.stage is not VerifyStage.VERIFIED
    assert len(sender.sent) == 1
    assert say(db, desk, "c-idle2", "hello", Topic.ORDER_STATUS).reply == ASK_IDENTIFIER


def test_send_failure_gives_the_same_reply_and_alerts_staff(
    db: Database, customers: CustomerDirectory, clock: Clock
) -> None:
    desk = make_desk(customers, RecordingSender(fail=True), clock)
    assert start(db, desk, "c-fail").reply == CODE_SENT
    (task,) = tasks_of(db, "c-fail")
    assert task.data["reason"] == "send_failed"
    assert "verify.send_failed" in audit_kinds(db, "c-fail")


def test_audit_chain_holds_and_never_holds_codes_or_contacts(
    db: Database, desk: VerificationDesk, sender: RecordingSender
) -> None:
    start(db, desk, "c-audit")
    code = sender.last_code()
    say(db, desk, "c-audit", "000000")
    say(db, desk, "c-audit", code)
    with db.session() as session:
        assert audit.verify(session).ok
        rows = list(audit.export_rows(session))
    blob = json.dumps(rows)
    assert code not in blob and "kari.nordmann" not in blob.lower()


SHOULD_HANDLE = [
    # (lane, conversation awaits a code, text, expected)
    (Lane.VERIFY, False, "where is my order?", True),
    (Lane.ANSWER, False, "what are your opening hours?", False),
    (Lane.ANSWER, False, "123456", False),
    (Lane.ANSWER, True, "123456", True),
    (Lane.ANSWER, True, "resend", True),
    (Lane.ANSWER, True, "what are your opening hours?", False),
    (Lane.ANSWER, False, "I lost access to my email", True),
    (Lane.HUMAN, True, "123456", False),
    (Lane.REFUSE, True, "123456", False),
]


@pytest.mark.parametrize(("lane", "awaiting", "text", "expected"), SHOULD_HANDLE)
def test_should_handle(
    db: Database, desk: VerificationDesk, lane: Lane, awaiting: bool, text: str, expected: bool
) -> None:
    if awaiting:
        start(db, desk, "c-route")
    with db.session() as session:
        assert desk.should_handle(session, "c-route", text, lane) is expected


SCAN_CASES = [
    # (text, emails usable as keys, order keys contain, code)
    (f"change my email to {ATTACKER}, current is a.b@example.com", ("a.b@example.com",), None, None),
    (f"from a.b@example.com to {ATTACKER}", ("a.b@example.com",), None, None),
    (f"my new email is {ATTACKER}", (), None, None),
    ("where is NO-240518", (), "NO240518", None),
    ("order #1042", (), "1042", None),
    ("my code is 123 456", (), None, "123456"),
    ("NO-240518, code 482910", (), "NO240518", "482910"),
    # Found by a bug hunt: the right code typed in full-width or Arabic-Indic digits burnt attempts.
    ("my code is \uff14\uff18\uff12\uff19\uff11\uff10", (), None, "482910"),
    ("\u0664\u0668\u0662 \u0669\u0661\u0660", (), None, "482910"),
]


@pytest.mark.parametrize(("text", "emails", "order", "code"), SCAN_CASES)
def test_scan_reads_identifiers_new_contacts_and_codes(
    text: str, emails: tuple[str, ...], order: str | None, code: str | None
) -> None:
    scan = scan_text(text, code_digits=6, regions=REGIONS)
    assert scan.emails == emails
    assert ATTACKER not in scan.emails
    if order:
        assert order in scan.orders
    assert scan.codes == ((code,) if code else ())


# ---- customers.csv ------------------------------------------------------------------------------------------------


def test_directory_normalises_lookups(customers: CustomerDirectory) -> None:
    assert len(customers) == 3
    kari = customers.by_email("  KARI.nordmann@Example.com ")
    assert kari is not None and kari.id == "C-1" and len(kari.orders) == 2
    assert customers.by_order("no 240600") is kari and customers.by_order("NO240518") is kari
    assert customers.by_phone("912 34 567") is kari and customers.by_phone("+4791234567") is kari
    assert customers.by_phone("0047 912 34 567") is kari
    assert customers.by_email("nobody@example.com") is None and customers.by_order("X-1") is None
    assert "Kari" not in repr(kari) and "example.com" not in repr(kari)
    assert normalize_order_id("no-240518") == "NO240518"


def test_missing_customers_file_is_an_empty_directory(tmp_path: Path) -> None:
    assert len(CustomerDirectory.load(tmp_path / "none.csv")) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,email\nA,a@example.com\n", "missing column"),
        ("id,name,email,phone\n,A,a@example.com,\n", "needs an id"),
        ("id,name,email,phone\nC1,A,not-an-email,\n", "email address is not valid"),
        ("id,name,email,phone\nC1,A,,12\n", "phone number is not valid"),
        ("id,name,email,phone\nC1,A,a@example.com,\nC1,A,b@example.com,\n", "different contact details"),
        ("id,name,email,phone,order_id\nC1,A,a@example.com,,X-1\nC2,B,b@example.com,,x1\n", "two customers"),
        ("id,name,email,phone,order_id,order_status\nC1,A,a@example.com,,X-1,<script>\n", "plain text"),
    ],
)
def test_malformed_customers_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        CustomerDirectory.load(path, regions=REGIONS)


def test_shared_email_identifies_nobody(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("id,name,email,phone\nC1,A,family@example.com,\nC2,B,family@example.com,\n", encoding="utf-8")
    directory = CustomerDirectory.load(path)
    assert directory.by_email("family@example.com") is None and directory.get("C1") is not None


def test_demo_customers_file_loads() -> None:
    demo = Path(verification_module.__file__).parent / "demo" / "customers.csv"
    directory = CustomerDirectory.load(demo, regions=("NO", "SE", "DK", "DE"))
    assert len(directory) >= 1
    for record in directory:
        assert record.email or record.phone


# ---- senders ------------------------------------------------------------------------------------------------------


def test_smtp_sender_delivers_over_real_smtp(smtp: tuple[SmtpConfig, Inbox]) -> None:
    config, inbox = smtp
    SmtpEmailSender(config).send(Contact("email", "kari@example.com"), "Your code", "Your code is 123456")
    ((rcpts, message),) = inbox.messages
    assert rcpts == ["kari@example.com"]
    assert message["Subject"] == "Your code" and message["Auto-Submitted"] == "auto-generated"
    assert "123456" in message.get_content()


def test_smtp_sender_reports_an_unreachable_server() -> None:
    sender = SmtpEmailSender(SmtpConfig(host="127.0.0.1", port=free_port(), timeout_seconds=2))
    with pytest.raises(DeliveryError):
        sender.send(Contact("email", "kari@example.com"), "s", "b")
    with pytest.raises(DeliveryError):
        sender.send(Contact("phone", "+4791234567"), "s", "b")
    with pytest.raises(VerificationError):
        SmtpEmailSender(SmtpConfig(ssl=True, starttls=True))


def test_log_sender_appends_private_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "data" / "outbox.log"
    sender = LogSender(path)
    sender.send(Contact("phone", "+4791234567"), "Code", "Your code is 1")
    sender.send(Contact("email", "a@example.com"), "Code", "Your code is 2")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(x["channel"], x["to"], x["body"]) for x in lines] == [
        ("phone", "+4791234567", "Your code is 1"),
        ("email", "a@example.com", "Your code is 2"),
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_background_sender_delivers_off_thread_and_reports_failures(smtp: tuple[SmtpConfig, Inbox]) -> None:
    config, inbox = smtp
    errors: list[Exception] = []
    sender = BackgroundSender(SmtpEmailSender(config), on_error=lambda to, exc: errors.append(exc))
    sender.send(Contact("email", "kari@example.com"), "s", "b")
    assert sender.flush(10) and len(inbox.messages) == 1
    broken = BackgroundSender(RoutingSender({}), on_error=lambda to, exc: errors.append(exc))
    broken.send(Contact("email", "kari@example.com"), "s", "b")
    assert broken.flush(10) and isinstance(errors[0], DeliveryError)
    sender.close()
    broken.close()


def test_build_sender_follows_the_config(tmp_path: Path, smtp: tuple[SmtpConfig, Inbox]) -> None:
    config, inbox = smtp
    log_sender = build_sender(VerificationConfig(), tmp_path)
    log_sender.send(Contact("email", "a@example.com"), "s", "b")
    assert (tmp_path / "outbox.log").exists()
    smtp_sender = build_sender(VerificationConfig(email_transport="smtp", smtp=config), tmp_path)
    assert isinstance(smtp_sender, BackgroundSender)
    smtp_sender.send(Contact("email", "a@example.com"), "s", "b")
    smtp_sender.send(Contact("phone", "+4791234567"), "s", "sms body")
    assert smtp_sender.flush(10)
    assert inbox.recipients() == {"a@example.com"}
    assert "sms body" in (tmp_path / "outbox.log").read_text()
    smtp_sender.close()  # type: ignore[attr-defined]


def test_migration_creates_the_verification_tables(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {"verification_states", "verification_requests"} <= tables


# ---- PostgreSQL ----------------------------------------------------------------------------------------------------

PG_ADMIN_URL = os.environ.get("SAFEDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_db() -> Iterator[Database]:
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"safedesk_verify_{secrets.token_hex(4)}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # no server, no test
        pytest.skip(f"no PostgreSQL at {PG_ADMIN_URL}")
    database = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield database
    finally:
        database.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_verification_flow_on_postgres(
    pg_db: Database, customers: CustomerDirectory, sender: RecordingSender, clock: Clock
) -> None:
    desk = make_desk(customers, sender, clock)
    start(pg_db, desk, "pg-v")
    code = sender.last_code()
    assert say(pg_db, desk, "pg-v", "000000").stage is VerifyStage.CODE_SENT
    clock.advance(0.25)
    done = say(pg_db, desk, "pg-v", code)
    assert done.verified_customer_id == "C-1" and "NO-240518 is shipped" in done.reply
    for i in range(3):
        start(pg_db, desk, f"pg-rate-{i}")
    assert len(sender.sent) == 3  # the per-record limit counts across conversations
    state = state_of(pg_db, "pg-v")
    assert state.verified_at == clock.now and state.code_hash is None
