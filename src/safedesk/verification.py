"""Identity verification: one-time codes to the contact ON FILE, then narrow read-only lookups.

How a conversation moves (state in `verification_states`, one row per conversation):

    (none) --request needing identity--> awaiting_identifier --email/order/phone--> code_sent
    code_sent --right code--> verified      code_sent --max_attempts wrong codes--> locked (+ staff task)
    any unverified stage --"I lost access, send it to this new address"--> handed_off (+ staff task)

Rules no chat message can switch off:

* A code goes only to the email (or, without one, the phone) in the customer record. An address or
  number typed in the chat is at most a key to FIND a record, never a destination; one that reads as
  the new contact ("change my email to x", "my new number is y") is not even used as a key.
* The reply to an identifier is the same whether or not a record matched, and the conversation then
  behaves the same (codes "expire", wrong codes count, lockout comes), so nothing tells an account
  exists. Sending happens off the request thread (notify.BackgroundSender) so timing does not either.
* Codes: `code_digits` digits from `secrets`, stored only as HMAC-SHA256 (per-deployment key in
  DIR/data/verification.key) bound to the conversation and record, compared with
  `hmac.compare_digest`, single use, expiring, `max_attempts` wrong codes per conversation lock it and
  alert staff; at most `max_codes_per_hour` code requests per conversation and codes per record.
* Verified customers get read-only answers built from `ALLOWED_LOOKUP_FIELDS` only, in the desk's own
  words. Password resets, contact / payment changes, refunds and cancellations are never performed:
  they become a staff task and the customer is told a person will finish it.

The pipeline calls `should_handle` (or `pending`) and `handle`; `handle` writes its own staff tasks and
audit events into the caller's session and returns a `VerifyOutcome`.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safedesk import audit
from safedesk.config import Project, VerificationConfig
from safedesk.customers import CustomerDirectory, CustomerRecord, normalize_email, normalize_order_id
from safedesk.domain import Lane, Topic
from safedesk.errors import ConfigError, VerificationError
from safedesk.notify import CodeSender, Contact, DeliveryError, build_sender
from safedesk.policy import asks_for_person
from safedesk.storage import repository as repo
from safedesk.storage.models import Conversation
from safedesk.storage.verification_models import VerificationRequest, VerificationState

SECRET_KEY_FILE = "verification.key"  # noqa: S105 - a file name

# The only record fields a verified customer may be told in the chat.
ALLOWED_LOOKUP_FIELDS = frozenset({"order_status", "delivery_date"})
# Topics the desk answers itself once the customer is verified (everything else goes to a person).
LOOKUP_TOPICS = frozenset({Topic.ORDER_STATUS})
# Topics that say nothing about what the customer wants (a code, an email address on its own).
_VAGUE_TOPICS = frozenset({Topic.OTHER, Topic.GENERAL_INFO, Topic.HUMAN_REQUEST, Topic.PROBING_OR_ATTACK})

RATE_WINDOW_SECONDS = 3600
STALE_AFTER_SECONDS = 3600  # an unfinished verification idle this long starts over
VERIFIED_TTL_SECONDS = 3600  # a verified conversation must verify again after this long
MAX_SCAN_CHARS = 4000
_NO_CODE = "0" * 64  # compared against when nothing was sent, so every attempt costs the same

# ---- replies (the desk's own words; no model writes them) -------------------------------------

CODE_SENT = (
    "If we have an account for that email or order, we have sent a code to the contact details we have on "
    "file. Please type the code here."
)
CODE_RESENT = (
    "If we have an account for that email or order, we have sent a new code to the contact details we have "
    "on file. Please type the newest code here."
)
ASK_IDENTIFIER = (
    "To help with that I first need to confirm who you are. Please tell me the email address or order "
    "number on your account. I'll send a one-time code to the contact details we have on file (never to a "
    "new address)."
)
ASK_CODE = (
    "Please type the {digits}-digit code we sent to the contact details we have on file. If it hasn't "
    'arrived, type "resend"; type "person" to reach our team.'
)
ONE_CODE = "Please type just the code, on its own."
WRONG_CODE = "That code doesn't match. Please check it and try again ({left} {attempts} left)."
_BARE_RESEND_WORDS = 6  # "resend", "please resend the code": longer messages say more, and go where routed
EXPIRED = 'That code has expired. Type "resend" and I\'ll send a new one to the contact details we have on file.'
LOCKED = (
    "That code doesn't match either. For your security I've stopped verification in this chat after too "
    "many wrong codes and alerted our team; a member of staff will help you from here."
)
STILL_LOCKED = (
    "For your security, verification in this chat was stopped after too many wrong codes. Our team has "
    "been alerted and a member of staff will help you."
)
TOO_MANY_CODES = (
    "I've already sent several codes in this chat, so for your security I can't send another right now. "
    'Please use the newest code you received, try again later, or type "person" to reach our team.'
)
LOST_ACCESS = (
    "For your security I can only send codes to the contact details we already have on file, never to a "
    "new or different address. I've passed your request to a member of our team, who will confirm who you "
    "are another way."
)
WITH_STAFF = "A member of our team is handling your request and will reply here."
VERIFIED = "Thank you, you're verified."
VERIFIED_HANDOFF = (
    "I can't make that kind of change myself, so I've passed your request to a member of our team, who "
    "will finish it with you."
)
NOT_YOUR_ORDER = (
    'I can only look up orders on the account you verified in this chat. Type "person" if you need help '
    "with anything else."
)
NO_ORDERS = 'I couldn\'t find an order on your account to look up. Type "person" to reach our team.'


class VerifyStage(StrEnum):
    AWAITING_IDENTIFIER = "awaiting_identifier"
    CODE_SENT = "code_sent"
    VERIFIED = "verified"
    LOCKED = "locked"
    HANDED_OFF = "handed_off"  # the customer cannot use the contact on file: staff verify another way


_PENDING = (VerifyStage.AWAITING_IDENTIFIER.value, VerifyStage.CODE_SENT.value)


@dataclass(frozen=True, slots=True)
class TaskSpec:
    kind: str
    summary: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    """What the pipeline delivers for a verification turn.

    `task` and `events` were already written into the caller's session (repository.open_task,
    audit.append); they are here so callers and tests can see what happened. `stored_text` is the
    redacted message with any code masked: store it instead of the redacted text when set.
    """

    reply: str
    lane: Lane
    topic: Topic
    stage: VerifyStage
    verified_customer_id: str | None = None
    task: TaskSpec | None = None
    task_id: int | None = None
    events: tuple[tuple[str, dict[str, Any]], ...] = ()
    stored_text: str | None = None


# ---- reading a customer message --------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.%+'-])[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
_INTL_PHONE = re.compile(r"\+\d[\d ()\-]{6,}\d")
# Order-number-shaped tokens: letters + digits ("NO-240518", "A1042", "no 240518"), "#1042", 5+ bare digits.
_ORDER_SHAPE = re.compile(
    r"(?<![\w@.#+-])(?:(?P<attached>[A-Za-z]{1,6}-?\d{3,}(?:-\d+)*)|(?P<spaced>[A-Za-z]{1,6} \d{4,})"
    r"|(?P<hash>#\s?\d{3,})|(?P<bare>\d{5,}))(?![\w@-])"
)
_LETTER_ORDER = re.compile(r"(?<![\w@.-])[A-Za-z]{1,6}-?\d{3,}(?:-\d+)*(?![\w@-])")
_DIGIT_GROUP = re.compile(r"(?<![\w+#-])\d(?:[ -]?\d)*(?![\w-])")
# A contact that follows one of these is the NEW contact: "to x", "new email is x", "instead: x".
_NEW_MARKER = re.compile(
    r"(?:\bto|\binto|\bwith|\bnow|\bbecome|\bshould be|\bwill be"
    r"|\bnew\b[\s\w-]{0,25}?(?:\bis|:|\bwill be|\bshould be)?)\s*[:\-]?\s*$",
    re.IGNORECASE,
)
_CONTACT_WORD = r"(?:e-?mail|inbox|mailbox|phone|mobile|cell|sim\b|(?:my|that|this) (?:old )?number)"
_LOST_ACCESS = re.compile(
    r"\b(?:lost|lose|losing|no longer (?:have|use|own|got|access)|(?:don'?t|do not|doesn'?t|does not) have"
    r"(?: access to)?|(?:can'?t|cannot|can not|unable to|couldn'?t) (?:access|get into|get to|log ?in(?:to)?|"
    r"open|use|check|receive)|no (?:longer )?access to|locked out of|stopped using|(?:don'?t|do not) use|"
    r"got rid of|changed|gave up)\b[^.?!\n]{0,20}?\b"
    + _CONTACT_WORD
    + r"|\b"
    + _CONTACT_WORD
    + r"\b[^.?!\n]{0,20}?\b(?:was|got|is|has been|have been)\s+"
    r"(?:stolen|lost|hacked|compromised|closed|deleted|deactivated|disconnected|broken|cancell?ed)",
    re.IGNORECASE,
)
_REDIRECT_TARGET = (
    r"(?:EMAILADDR|PHONENUM|elsewhere|somewhere else|"
    r"(?:my |a |an |the )?(?:new|another|different|other|alternative|backup|work|personal|second|private|"
    r"husband'?s|wife'?s|partner'?s|friend'?s)\s+(?:e-?mail(?: address)?|phone(?: number)?|number|mobile|inbox)"
    r"|this (?:e-?mail|number|one))"
)
_REDIRECT = re.compile(
    r"\b(?:send|sent|text|sms|deliver|forward|resend|re-send|e-?mail (?:me|it|the code|them)|mail (?:me|it))\w*"
    r"\b[^.?!\n]{0,40}?\b(?:to|at|on|via)\s+"
    + _REDIRECT_TARGET
    + r"|\b(?:send|text|deliver)\w*\b[^.?!\n]{0,30}?\b(?:elsewhere|somewhere else)"
    r"|\b(?:code|otp|pin|verification)\b[^.?!\n]{0,40}?\b(?:elsewhere|somewhere else|instead)\b"
    r"|\b(?:use|try)\s+(?:this|my new|the new|a new|another|a different|my other)\s+"
    r"(?:e-?mail|address|number|phone)(?:\s+\w+)?\s+instead",
    re.IGNORECASE,
)
_RESEND = re.compile(
    r"\b(?:resend|re-send|send (?:it |the code |a code |me a code |me the code )?again|new code|another code|"
    r"(?:didn'?t|did not|haven'?t|have not|never|still not|not yet) (?:get|got|gotten|receive|received|arrived|"
    r"come|had)|no code|not (?:received|arrived)|hasn'?t (?:arrived|come))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Scan:
    emails: tuple[str, ...]  # normalised, usable as keys (not a new contact)
    phones: tuple[str, ...]  # E.164, usable as keys
    orders: tuple[str, ...]  # lookup keys of order-number-shaped tokens
    strong_orders: tuple[str, ...]  # keys of those that cannot be a (mistyped) code: "NO-240518", "#1042"
    new_contacts: int  # contacts that read as the NEW one: never keys, never destinations
    codes: tuple[str, ...]  # digit groups of exactly the code length
    code_raw: tuple[str, ...]  # the same as written (for masking)
    resend: bool
    lost_access: bool

    @property
    def has_identifier(self) -> bool:
        # Decided by the shape of the text alone, never by whether a record matched.
        return bool(self.emails or self.phones or self.orders)

    @property
    def has_strong_identifier(self) -> bool:
        """An identifier that cannot be a mistyped code: an email, a phone, a lettered order number."""
        return bool(self.emails or self.phones or self.strong_orders)


def _is_new_contact(text: str, start: int) -> bool:
    return bool(_NEW_MARKER.search(text[max(0, start - 40) : start]))


def scan_text(text: str, *, code_digits: int, regions: Iterable[str]) -> _Scan:
    """What a customer message offers: identifiers, a code, a resend request, a lost-access claim.
    Only the first MAX_SCAN_CHARS characters are read (a hostile 100 kB message stays cheap)."""
    text = text[:MAX_SCAN_CHARS]
    emails: list[str] = []
    new_contacts = 0
    masked = text
    for match in _EMAIL.finditer(text):
        if _is_new_contact(text, match.start()):
            new_contacts += 1
        else:
            emails.append(normalize_email(match.group()))
    masked = _EMAIL.sub(" EMAILADDR ", masked)

    phones: list[str] = []
    phone_spans: list[tuple[int, int]] = []
    for region in dict.fromkeys(r.upper() for r in regions):
        for m in phonenumbers.PhoneNumberMatcher(masked, region, leniency=phonenumbers.Leniency.VALID):
            span = (m.start, m.end)
            if span in phone_spans:
                continue
            phone_spans.append(span)
            e164 = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
            if _is_new_contact(masked, m.start):
                new_contacts += 1
            elif e164 not in phones:
                phones.append(e164)

    # Codes: bare digit groups once emails, letter-prefixed order numbers and +country numbers are out.
    code_text = _INTL_PHONE.sub(" ", _LETTER_ORDER.sub(" ", masked))
    code_raw = tuple(
        dict.fromkeys(g for g in _DIGIT_GROUP.findall(code_text) if len(re.sub(r"\D", "", g)) == code_digits)
    )
    codes = tuple(dict.fromkeys(_ascii_digits(g) for g in code_raw))

    no_phones = masked
    for start, end in sorted(phone_spans, reverse=True):
        no_phones = no_phones[:start] + " PHONENUM " + no_phones[end:]
    orders: list[str] = []
    strong: list[str] = []
    for m in _ORDER_SHAPE.finditer(no_phones):
        keys = [normalize_order_id(m.group())]
        if m.group("spaced") or m.group("hash"):  # "order 1042", "#1042": also the number alone
            keys.append(re.sub(r"\D", "", m.group()))
        orders += keys
        if not m.group("bare") and re.sub(r"\D", "", m.group()) not in codes:
            strong += keys

    return _Scan(
        emails=tuple(dict.fromkeys(emails)),
        phones=tuple(phones),
        orders=tuple(dict.fromkeys(orders)),
        strong_orders=tuple(dict.fromkeys(strong)),
        new_contacts=new_contacts,
        codes=codes,
        code_raw=code_raw,
        resend=bool(_RESEND.search(no_phones)),
        lost_access=bool(_LOST_ACCESS.search(no_phones) or _REDIRECT.search(no_phones)),
    )


# ---- the secret key --------------------------------------------------------------------------------


def load_or_create_secret(path: Path | str) -> bytes:
    """The per-deployment HMAC key (32 random bytes, file mode 0600), created on first use."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) < 32:
            raise ConfigError(
                f"{path}: the verification key is too short (delete it to make a new one; "
                "codes already sent stop working)"
            ) from None
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


# ---- the desk ---------------------------------------------------------------------------------------


class VerificationDesk:
    """Verification and verified lookups for conversations. Stateless itself: state lives in the DB."""

    def __init__(
        self,
        config: VerificationConfig,
        customers: CustomerDirectory,
        sender: CodeSender,
        secret_key: bytes,
        clock: Callable[[], float] = time.time,
        *,
        business_name: str = "",
        verified_ttl_seconds: float = VERIFIED_TTL_SECONDS,
    ) -> None:
        if len(secret_key) < 32:
            raise VerificationError("the verification secret key must be at least 32 bytes")
        self.config = config
        self.customers = customers
        self.sender = sender
        self._key = secret_key
        self.clock = clock
        self.business_name = business_name
        self.verified_ttl = verified_ttl_seconds

    # ---- what the pipeline asks ----------------------------------------------------------------

    def pending(self, session: Session, conversation_id: str) -> bool:
        """Does the conversation await an identifier or a code?"""
        state = session.get(VerificationState, conversation_id)
        return state is not None and self._stage(state) in (VerifyStage.AWAITING_IDENTIFIER, VerifyStage.CODE_SENT)

    def should_handle(
        self, session: Session, conversation_id: str, text: str, lane: Lane, *, topic_only: bool = False
    ) -> bool:
        """Should this turn go to `handle`? Requests in the verify lane always do; in the answer lane a
        message does when the conversation awaits what it carries (a code, an identifier, "resend") or it
        claims lost access to the contact on file. Refusals and hand-offs never do, with one exception: a
        short "resend" while a code is awaited, when only the router's topic sent it to a person (`topic_only`:
        the desk's own prompt asks for that word, and the router, which reads it without the conversation, may
        take it for something else, such as a refund). A failing guard, an upset customer, a request for a person
        or a conversation already with staff still goes to a person."""
        if lane is Lane.VERIFY:
            return True
        if lane is Lane.HUMAN:
            if not (topic_only and len(text.split()) <= _BARE_RESEND_WORDS and not asks_for_person(text)):
                return False
            scan = self._scan(text)
            state = session.get(VerificationState, conversation_id)
            return scan.resend and not scan.codes and state is not None and self._stage(state) is VerifyStage.CODE_SENT
        if lane is not Lane.ANSWER:
            return False
        scan = self._scan(text)
        if scan.lost_access:
            state = session.get(VerificationState, conversation_id)
            return state is None or self._stage(state) is not VerifyStage.VERIFIED
        if not self.pending(session, conversation_id):
            return False
        return bool(scan.codes or scan.has_identifier or scan.resend)

    def mask_awaited_code(self, session: Session, conversation_id: str, text: str, redacted: str) -> str:
        """`redacted` with any code masked while one is awaited, whatever lane the message then takes (a
        code typed beside "can I talk to a person?" is not checked, and is never stored or shown in clear).
        `text` is the original message, where codes are read."""
        state = session.get(VerificationState, conversation_id)
        if state is None or self._stage(state) is not VerifyStage.CODE_SENT:
            return redacted
        scan = self._scan(text)
        return _mask_codes(redacted, scan.code_raw) if scan.code_raw else redacted

    def verified_customer(self, session: Session, conversation_id: str) -> str | None:
        state = session.get(VerificationState, conversation_id)
        if state is None or self._stage(state) is not VerifyStage.VERIFIED:
            return None
        return state.customer_id

    def handle(
        self,
        session: Session,
        conversation_id: str,
        text: str,
        topic: Topic | str,
        *,
        redacted: str | None = None,
        message_id: int | None = None,
    ) -> VerifyOutcome:
        """One verification turn. `text` is the ORIGINAL message (identifiers and codes are read from it);
        `redacted` its redacted form, the only form that goes into staff tasks."""
        topic = Topic(topic)
        turn = _TurnLog(self, session, conversation_id, message_id)
        conversation = repo.get_or_create_conversation(session, conversation_id)
        scan = self._scan(text)
        base = redacted if redacted is not None else text
        if scan.code_raw:  # a typed code is never kept in clear, not even in the redacted message
            base = _mask_codes(base, scan.code_raw)
        safe_text = base if redacted is not None else _scrub_contacts(base)
        stored = safe_text if scan.code_raw else None
        state = self._load_state(session, conversation_id, topic, safe_text, message_id, conversation)
        stage = VerifyStage(state.stage)

        if stage is VerifyStage.LOCKED:
            return turn.outcome(STILL_LOCKED, Lane.HUMAN, state, stored_text=stored)
        if stage is VerifyStage.HANDED_OFF:
            return turn.outcome(WITH_STAFF, Lane.HUMAN, state, stored_text=stored)
        if stage is VerifyStage.VERIFIED:
            return self._verified(turn, state, conversation, topic, safe_text, scan, stored)

        if topic not in _VAGUE_TOPICS and Topic(state.topic) in _VAGUE_TOPICS:
            state.topic, state.request_text, state.request_message_id = topic.value, safe_text, message_id
        if scan.lost_access:
            return self._lost_access(turn, state, conversation, scan)
        if stage is VerifyStage.CODE_SENT and scan.codes:
            if len(scan.codes) > 1:
                return turn.outcome(ONE_CODE, Lane.VERIFY, state, stored_text=stored)
            return self._check_code(turn, state, conversation, topic, scan.codes[0], scan, stored)
        if stage is VerifyStage.CODE_SENT and scan.resend and not scan.has_strong_identifier:
            return self._issue(turn, state, self.customers.get(state.customer_id), resend=True)
        if scan.has_strong_identifier or (stage is VerifyStage.AWAITING_IDENTIFIER and scan.has_identifier):
            return self._issue(turn, state, self._identify(turn, scan), resend=False)
        if stage is VerifyStage.CODE_SENT:
            return turn.outcome(ASK_CODE.format(digits=self.config.code_digits), Lane.VERIFY, state)
        return turn.outcome(ASK_IDENTIFIER, Lane.VERIFY, state)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until codes handed to a background sender are delivered (tests, shutdown)."""
        flush = getattr(self.sender, "flush", None)
        return flush(timeout) if callable(flush) else True

    def close(self) -> None:
        close = getattr(self.sender, "close", None)
        if callable(close):
            close()

    # ---- read-only lookups -------------------------------------------------------------------------

    def lookup(
        self, customer_id: str, order_id: str | None = None, fields: Iterable[str] = ALLOWED_LOOKUP_FIELDS
    ) -> list[dict[str, str]]:
        """Order facts of ONE customer, restricted to ALLOWED_LOOKUP_FIELDS (anything else raises)."""
        wanted = set(fields)
        if not wanted <= ALLOWED_LOOKUP_FIELDS:
            raise VerificationError(f"lookup of {', '.join(sorted(wanted - ALLOWED_LOOKUP_FIELDS))} is not allowed")
        record = self.customers.get(customer_id)
        if record is None:
            return []
        orders = record.orders if order_id is None else tuple(o for o in [record.order(order_id)] if o is not None)
        return [{"order_id": o.order_id, **{name: getattr(o, name) for name in sorted(wanted)}} for o in orders]

    # ---- stages --------------------------------------------------------------------------------------

    def _verified(
        self,
        turn: _TurnLog,
        state: VerificationState,
        conversation: Conversation,
        topic: Topic,
        safe_text: str,
        scan: _Scan,
        stored: str | None,
        *,
        just_now: bool = False,
    ) -> VerifyOutcome:
        assert state.customer_id is not None
        if just_now:  # the request the code was sent for (`handle` let a clear topic replace a vague one)
            request = Topic(state.topic)
        else:
            request = topic if topic not in _VAGUE_TOPICS else Topic(state.topic)
        text = state.request_text if just_now or topic in _VAGUE_TOPICS else safe_text
        prefix = VERIFIED + " " if just_now else ""
        if request in LOOKUP_TOPICS:
            rows = self.lookup(state.customer_id)
            asked = scan.orders
            if asked and not just_now:
                mine = [r for r in rows if normalize_order_id(r["order_id"]) in asked]
                if not mine:
                    return turn.outcome(
                        prefix + NOT_YOUR_ORDER,
                        Lane.VERIFY,
                        state,
                        topic=request,
                        verified=state.customer_id,
                        stored_text=stored,
                    )
                rows = mine
            turn.event(
                "verify.lookup",
                {"customer_id": state.customer_id, "orders": len(rows), "fields": sorted(ALLOWED_LOOKUP_FIELDS)},
            )
            reply = prefix + (lookup_reply(rows) if rows else NO_ORDERS)
            return turn.outcome(
                reply, Lane.VERIFY, state, topic=request, verified=state.customer_id, stored_text=stored
            )
        task = TaskSpec(
            "verification",
            f"identity verified; {request.value.replace('_', ' ')} needs a person",
            {"identity_verified": True, "customer_id": state.customer_id, "request": request.value, "text": text},
        )
        turn.task(task)
        turn.event("verify.handoff", {"customer_id": state.customer_id, "request": request.value})
        repo.touch(conversation, status="human")
        return turn.outcome(
            prefix + VERIFIED_HANDOFF, Lane.HUMAN, state, topic=request, verified=state.customer_id, stored_text=stored
        )

    def _lost_access(
        self, turn: _TurnLog, state: VerificationState, conversation: Conversation, scan: _Scan
    ) -> VerifyOutcome:
        claimed = self._identify(turn, scan, record_event=False) if scan.has_identifier else None
        state.stage, state.code_hash, state.code_expires_at = VerifyStage.HANDED_OFF.value, None, None
        state.updated_at = self.clock()
        turn.task(
            TaskSpec(
                "verification",
                "customer cannot use the contact on file: verify another way (no code was sent to a new address)",
                {
                    "identity_verified": False,
                    "reason": "lost_access",
                    "claimed_customer_id": claimed.id if claimed else None,
                    "request": state.topic,
                    "text": state.request_text,
                },
            )
        )
        turn.event("verify.lost_access", {"claimed_customer_id": claimed.id if claimed else None})
        repo.touch(conversation, status="human")
        return turn.outcome(LOST_ACCESS, Lane.HUMAN, state)

    def _identify(self, turn: _TurnLog, scan: _Scan, *, record_event: bool = True) -> CustomerRecord | None:
        found: dict[str, CustomerRecord] = {}
        for record in (
            *(self.customers.by_email(e) for e in scan.emails),
            *(self.customers.by_phone(p) for p in scan.phones),
            *(self.customers.by_order(o) for o in scan.orders),
        ):
            if record is not None:
                found[record.id] = record
        if len(found) > 1:
            if record_event:
                turn.event("verify.ambiguous", {"customers": sorted(found)})
            return None
        return next(iter(found.values()), None)

    def _issue(
        self, turn: _TurnLog, state: VerificationState, record: CustomerRecord | None, *, resend: bool
    ) -> VerifyOutcome:
        now = self.clock()
        session, cid = turn.session, turn.conversation_id
        since = now - RATE_WINDOW_SECONDS
        per_conversation = session.execute(
            select(func.count(VerificationRequest.id)).where(
                VerificationRequest.conversation_id == cid, VerificationRequest.requested_at > since
            )
        ).scalar_one()
        if per_conversation >= self.config.max_codes_per_hour:
            turn.event("verify.rate_limited", {"scope": "conversation", "requests": per_conversation})
            return turn.outcome(TOO_MANY_CODES, Lane.VERIFY, state)

        request = VerificationRequest(
            conversation_id=cid, customer_id=record.id if record else None, requested_at=now, sent=False
        )
        session.add(request)
        # Whatever matched, the conversation now behaves as if a code was sent: same reply, same expiry.
        state.stage = VerifyStage.CODE_SENT.value
        state.customer_id = record.id if record else None
        state.code_hash = None
        state.code_expires_at = now + self.config.expiry_seconds
        state.updated_at = now
        reply = CODE_RESENT if resend else CODE_SENT
        if record is None:
            turn.event("verify.code_requested", {"matched": False, "resend": resend})
            return turn.outcome(reply, Lane.VERIFY, state)

        per_record = session.execute(
            select(func.count(VerificationRequest.id)).where(
                VerificationRequest.customer_id == record.id,
                VerificationRequest.sent.is_(True),
                VerificationRequest.requested_at > since,
            )
        ).scalar_one()
        if per_record >= self.config.max_codes_per_hour:
            turn.event("verify.rate_limited", {"scope": "record", "customer_id": record.id, "codes": per_record})
            return turn.outcome(reply, Lane.VERIFY, state)
        contact = self._contact(record)
        if contact is None:
            turn.event("verify.no_contact", {"customer_id": record.id})
            return turn.outcome(reply, Lane.VERIFY, state)

        code = f"{secrets.randbelow(10**self.config.code_digits):0{self.config.code_digits}d}"
        state.code_hash = self._hash(cid, record.id, code)
        request.sent = True
        try:
            self.sender.send(contact, *self._message(code))
        except DeliveryError as exc:
            turn.event(
                "verify.send_failed", {"customer_id": record.id, "channel": contact.kind, "error": type(exc).__name__}
            )
            turn.task(
                TaskSpec(
                    "verification",
                    "a verification code could not be sent",
                    {"identity_verified": False, "customer_id": record.id, "reason": "send_failed"},
                )
            )
            return turn.outcome(reply, Lane.VERIFY, state)
        turn.event("verify.code_sent", {"customer_id": record.id, "channel": contact.kind, "resend": resend})
        return turn.outcome(reply, Lane.VERIFY, state)

    def _check_code(
        self,
        turn: _TurnLog,
        state: VerificationState,
        conversation: Conversation,
        topic: Topic,
        code: str,
        scan: _Scan,
        stored: str | None,
    ) -> VerifyOutcome:
        now = self.clock()
        state.updated_at = now
        if state.code_expires_at is None or now >= state.code_expires_at:
            state.code_hash = None
            turn.event("verify.expired_code", {})
            return turn.outcome(EXPIRED, Lane.VERIFY, state, stored_text=stored)
        expected = state.code_hash or _NO_CODE
        matches = hmac.compare_digest(expected, self._hash(turn.conversation_id, state.customer_id, code))
        if matches and state.code_hash is not None and state.customer_id is not None:
            state.stage, state.code_hash, state.code_expires_at = VerifyStage.VERIFIED.value, None, None
            state.verified_at = now
            repo.touch(conversation, verified_customer_id=state.customer_id)
            turn.event("verify.verified", {"customer_id": state.customer_id, "attempts": state.attempts + 1})
            return self._verified(turn, state, conversation, topic, "", scan, stored, just_now=True)

        state.attempts += 1
        turn.event("verify.wrong_code", {"attempts": state.attempts})
        if state.attempts < self.config.max_attempts:
            left = self.config.max_attempts - state.attempts
            reply = WRONG_CODE.format(left=left, attempts="attempt" if left == 1 else "attempts")
            return turn.outcome(reply, Lane.VERIFY, state, stored_text=stored)
        state.stage, state.code_hash, state.code_expires_at = VerifyStage.LOCKED.value, None, None
        turn.task(
            TaskSpec(
                "verification",
                f"locked after {state.attempts} wrong codes",
                {
                    "identity_verified": False,
                    "reason": "locked",
                    "customer_id": state.customer_id,
                    "attempts": state.attempts,
                    "request": state.topic,
                    "text": state.request_text,
                },
            )
        )
        turn.event("verify.locked", {"customer_id": state.customer_id, "attempts": state.attempts})
        repo.touch(conversation, status="human", flagged=True)
        return turn.outcome(LOCKED, Lane.HUMAN, state, stored_text=stored)

    # ---- helpers -------------------------------------------------------------------------------------

    def _scan(self, text: str) -> _Scan:
        return scan_text(text, code_digits=self.config.code_digits, regions=self.customers.regions)

    def _stage(self, state: VerificationState) -> VerifyStage | None:
        """The stage after time has passed; None when it ran out (an idle verification, an old verified one)."""
        now = self.clock()
        stage = VerifyStage(state.stage)
        if stage.value in _PENDING and now - state.updated_at > STALE_AFTER_SECONDS:
            return None
        if stage is VerifyStage.VERIFIED and (state.verified_at is None or now - state.verified_at > self.verified_ttl):
            return None
        return stage

    def _load_state(
        self,
        session: Session,
        conversation_id: str,
        topic: Topic,
        safe_text: str,
        message_id: int | None,
        conversation: Conversation,
    ) -> VerificationState:
        now = self.clock()
        state = session.execute(
            select(VerificationState)
            .where(VerificationState.conversation_id == conversation_id)
            .with_for_update()  # concurrent turns of one conversation take turns (attempts cannot race)
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if state is None:
            state = VerificationState(
                conversation_id=conversation_id,
                stage=VerifyStage.AWAITING_IDENTIFIER.value,
                topic=topic.value,
                request_text=safe_text,
                request_message_id=message_id,
                attempts=0,
                created_at=now,
                updated_at=now,
            )
            session.add(state)
            try:
                with session.begin_nested():
                    session.flush()
            except IntegrityError:  # a concurrent turn created it
                state = session.get(VerificationState, conversation_id)
                assert state is not None
            return state
        if self._stage(state) is None:
            if state.stage == VerifyStage.VERIFIED.value:
                repo.touch(conversation, verified_customer_id=None)
            state.stage, state.customer_id = VerifyStage.AWAITING_IDENTIFIER.value, None
            state.code_hash, state.code_expires_at, state.verified_at = None, None, None
            state.attempts, state.topic, state.request_text = 0, topic.value, safe_text
            state.request_message_id, state.created_at, state.updated_at = message_id, now, now
        return state

    def _contact(self, record: CustomerRecord) -> Contact | None:
        """The contact ON FILE a code goes to: the email, or the phone when there is no email."""
        if record.email and self.sender.can_send("email"):
            return Contact("email", record.email)
        if record.phone and self.sender.can_send("phone"):
            return Contact("phone", record.phone)
        return None

    def _hash(self, conversation_id: str, customer_id: str | None, code: str) -> str:
        message = f"{conversation_id}\x00{customer_id or ''}\x00{code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _message(self, code: str) -> tuple[str, str]:
        who = self.business_name or "our shop"
        minutes = max(1, self.config.expiry_seconds // 60)
        subject = f"Your {who} verification code"
        body = (
            f"Your {who} verification code is {code}\n\n"
            f"Type it in the chat to confirm it's you. It works once and expires in {minutes} minutes.\n"
            "Never share it: our staff will never ask you for it by phone or email.\n"
            "If you didn't ask for a code, you can ignore this message; nothing changes on your account.\n"
        )
        return subject, body


class _TurnLog:
    """Collects (and writes) the audit events and task of one verification turn."""

    def __init__(self, desk: VerificationDesk, session: Session, conversation_id: str, message_id: int | None):
        self.desk, self.session, self.conversation_id, self.message_id = desk, session, conversation_id, message_id
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.task_spec: TaskSpec | None = None
        self.task_id: int | None = None

    def event(self, kind: str, data: dict[str, Any]) -> None:
        audit.append(
            self.session, kind, conversation_id=self.conversation_id, data={**data, "message": self.message_id}
        )
        self.events.append((kind, data))

    def task(self, spec: TaskSpec) -> None:
        task = repo.open_task(self.session, self.conversation_id, spec.kind, spec.summary, self.message_id, spec.data)
        self.task_spec, self.task_id = spec, task.id
        self.event("verify.task", {"task": task.id, "summary": spec.summary})

    def outcome(
        self,
        reply: str,
        lane: Lane,
        state: VerificationState,
        *,
        topic: Topic | None = None,
        verified: str | None = None,
        stored_text: str | None = None,
    ) -> VerifyOutcome:
        return VerifyOutcome(
            reply=reply,
            lane=lane,
            topic=topic or Topic(state.topic),
            stage=VerifyStage(state.stage),
            verified_customer_id=verified,
            task=self.task_spec,
            task_id=self.task_id,
            events=tuple(self.events),
            stored_text=stored_text,
        )


def lookup_reply(rows: Iterable[dict[str, str]]) -> str:
    """Plain sentences the desk writes itself from allowed fields: "Your order A-1 is shipped; ..."."""
    sentences = []
    for row in rows:
        status = row.get("order_status") or "being processed"
        date = row.get("delivery_date") or ""
        sentence = f"Your order {row['order_id']} is {status}"
        if date and status.lower() in ("delivered", "returned", "cancelled", "canceled"):
            sentence += f" (delivery date {date})"
        elif date:
            sentence += f"; expected delivery {date}"
        sentences.append(sentence + ".")
    return " ".join(sentences)


def _ascii_digits(text: str) -> str:
    """The digits of `text` as ASCII: a code typed on a full-width or Arabic keyboard ("１２３", "١٢٣") is
    the same code ("\\d" matches any decimal digit, so the groups are found, but the hash needs ASCII)."""
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


def _mask_codes(text: str, raw_codes: Iterable[str]) -> str:
    digits = {re.sub(r"\D", "", c) for c in raw_codes}
    return _DIGIT_GROUP.sub(lambda m: "<CODE>" if re.sub(r"\D", "", m.group()) in digits else m.group(), text)


def _scrub_contacts(text: str) -> str:
    """A fallback redaction when the caller gives no redacted text: emails and long numbers masked."""
    return _DIGIT_GROUP.sub(
        lambda m: "<NUMBER>" if len(re.sub(r"\D", "", m.group())) >= 5 else m.group(),
        _INTL_PHONE.sub("<PHONE>", _EMAIL.sub("<EMAIL>", text)),
    )


def build_verification_desk(
    project: Project, *, clock: Callable[[], float] = time.time, background_send: bool = True
) -> VerificationDesk | None:
    """The verification desk for a business directory, or None when it has no customers.csv records
    (then the verify lane hands requests to staff, as before)."""
    config = project.config
    customers = CustomerDirectory.load(project.customers_file, regions=config.business.regions)
    if not len(customers):
        return None
    data_dir = project.data_dir
    return VerificationDesk(
        config.verification,
        customers,
        build_sender(config.verification, data_dir, background=background_send),
        load_or_create_secret(data_dir / SECRET_KEY_FILE),
        clock,
        business_name=config.business.name,
    )
