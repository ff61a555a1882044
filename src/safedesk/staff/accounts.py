"""Staff accounts: roles and permissions, the password policy, argon2 hashing, TOTP, sign-in with lockout.

Everything here is plain library code over a SQLAlchemy session; the CLI (`safedesk users ...`), the
web routes and the tests call the same functions.
"""

from __future__ import annotations

import enum
import hmac
import math
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Protocol

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from safedesk.errors import UserError
from safedesk.storage.staff_models import LoginAttempt, StaffSession, StaffUser

# ---- roles ------------------------------------------------------------------------------------

OWNER = "owner"
AGENT = "agent"
ROLES = (OWNER, AGENT)

# What each role may do. Checked server-side on every staff route (see auth.require).
PERMISSIONS: dict[str, frozenset[str]] = {
    "inbox": frozenset({OWNER, AGENT}),
    "reply": frozenset({OWNER, AGENT}),
    "reveal": frozenset({OWNER, AGENT}),
    "review": frozenset({OWNER, AGENT}),
    "account": frozenset({OWNER, AGENT}),
    "knowledge": frozenset({OWNER}),
    "users": frozenset({OWNER}),
    "dashboard": frozenset({OWNER}),
    "redteam": frozenset({OWNER}),  # attacks the desk: runs probes, reads what leaked
    "audit": frozenset({OWNER}),  # reads the audit log and checks its chain
}


def can(role: str, permission: str) -> bool:
    """True when `role` may use `permission`. Unknown permissions are refused (fail closed)."""
    return role in PERMISSIONS.get(permission, frozenset())


# ---- errors -----------------------------------------------------------------------------------


class AccountError(UserError):
    """A staff-account request that cannot be done as asked (bad name, duplicate, last owner...)."""


class AccountLocked(AccountError):
    """Too many wrong passwords: the account is locked for LOCKOUT (`just_locked`: by this very attempt)."""

    def __init__(self, message: str, *, just_locked: bool = False) -> None:
        super().__init__(message)
        self.just_locked = just_locked


class WeakPassword(AccountError):
    """The password fails the policy; the message says why."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("password refused: " + "; ".join(reasons))


# ---- password policy --------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256  # longer inputs are refused outright (argon2 handles them; zxcvbn is slow)
MIN_ZXCVBN_SCORE = 3
_ZXCVBN_CHARS = 100  # zxcvbn's cost grows fast with length; the first 100 characters decide the score


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of commonly breached passwords (lower-cased)."""
    text = resources.files("safedesk.staff").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def password_problems(password: str, user_inputs: Iterable[str] = ()) -> list[str]:
    """Why `password` is refused, as short human reasons; an empty list means it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [f"it is too short ({len(password)} characters; at least {MIN_PASSWORD_LENGTH})"]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"it is too long ({len(password)} characters; at most {MAX_PASSWORD_LENGTH})"]
    if password.strip() != password:
        return ["it starts or ends with spaces"]
    problems = []
    lowered = password.lower()
    if lowered in common_passwords():
        problems.append("it is on the list of commonly breached passwords")
    inputs = [s for s in user_inputs if s]
    words = {w.lower() for s in inputs for w in re.split(r"[\W_]+", s) if len(w) >= 4}
    found = sorted(w for w in words if w in lowered)
    if found:  # name the word: "eier" from a display name "Kari (eier)" is not obviously a name
        problems.append(f'it contains "{found[0]}", from your user name, display name or the business\'s name')
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:_ZXCVBN_CHARS], user_inputs=[*inputs, *sorted(words)])
    if result["score"] < MIN_ZXCVBN_SCORE:
        feedback = result.get("feedback") or {}
        hint = feedback.get("warning") or ""
        reason = f"it is too easy to guess (strength {result['score']}/4, needs {MIN_ZXCVBN_SCORE})"
        if hint:
            reason += f": {hint.rstrip('.')}"
        suggestions = feedback.get("suggestions") or []
        if suggestions:
            reason += f". {suggestions[0]}"
        problems.append(reason)
    return problems


def check_password(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Raise WeakPassword (a UserError: exit 2 on the CLI) when the policy refuses `password`."""
    problems = password_problems(password, user_inputs)
    if problems:
        raise WeakPassword(problems)


# ---- hashing ----------------------------------------------------------------------------------

# argon2id with argon2-cffi's defaults (RFC 9106 "low memory": t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()
# Each hash takes 64 MiB while it runs: 40 sign-ins sent at once took a server from 350 MB to 2.8 GB. The
# others wait their turn.
HASHING_AT_ONCE = 2
_HASHING = threading.BoundedSemaphore(HASHING_AT_ONCE)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so the time taken does not reveal which names
    exist. Made on first use: each argon2 hash briefly takes 64 MiB, which need not be paid at start."""
    return hash_password("safedesk-dummy-password-for-timing")


def hash_password(password: str) -> str:
    with _HASHING:
        return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    with _HASHING:
        try:
            return _hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# ---- TOTP -------------------------------------------------------------------------------------

TOTP_INTERVAL = 30
TOTP_DRIFT_STEPS = 1  # accept the previous and next 30-second step too (clock drift)


class Cipher(Protocol):
    """What accounts need from the vault: encrypt/decrypt short strings (safedesk.vault.Vault)."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret, interval=TOTP_INTERVAL).provisioning_uri(name=username, issuer_name=issuer)


def verify_totp(secret: str, code: str, *, last_step: int = 0, now: float | None = None) -> int | None:
    """The time step `code` belongs to, or None. Steps at or before `last_step` are refused (replay)."""
    code = re.sub(r"\s+", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL)
    current = int((time.time() if now is None else now) // TOTP_INTERVAL)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if step <= last_step:
            continue
        if hmac.compare_digest(totp.at(step * TOTP_INTERVAL).encode(), code.encode()):
            return step
    return None


# ---- users ------------------------------------------------------------------------------------

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything SafeDesk stores is UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def normalize_username(name: str) -> str:
    return (name or "").strip().lower()


def validate_username(name: str) -> str:
    username = normalize_username(name)
    if not USERNAME_RE.match(username):
        raise AccountError(
            f"invalid user name {name!r}: 2-64 characters, lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return username


def get_user(session: Session, username: str) -> StaffUser | None:
    return session.execute(
        select(StaffUser).where(StaffUser.username == normalize_username(username))
    ).scalar_one_or_none()


def require_user(session: Session, username: str) -> StaffUser:
    user = get_user(session, username)
    if user is None:
        raise AccountError(f"no staff user named {normalize_username(username)!r}")
    return user


def list_users(session: Session) -> list[StaffUser]:
    return list(session.execute(select(StaffUser).order_by(StaffUser.username)).scalars())


@dataclass(frozen=True, slots=True)
class NewUser:
    user: StaffUser
    totp_secret: str | None  # shown once, never again
    totp_uri: str | None


def create_user(
    session: Session,
    cipher: Cipher,
    username: str,
    role: str,
    password: str,
    *,
    display_name: str = "",
    totp: bool = True,
    issuer: str = "SafeDesk",
) -> NewUser:
    """Add a staff user. Owners always get TOTP; agents unless `totp=False`."""
    username = validate_username(username)
    if role not in ROLES:
        raise AccountError(f"invalid role {role!r} (use one of: {', '.join(ROLES)})")
    if role == OWNER and not totp:
        raise AccountError("owners must use a second factor (TOTP); --no-totp is only for agents")
    display_name = (display_name or username).strip()[:100]
    if get_user(session, username) is not None:
        raise AccountError(f"a staff user named {username!r} already exists")
    check_password(password, [username, display_name, issuer])
    secret = new_totp_secret() if totp else None
    user = StaffUser(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        totp_secret_encrypted=cipher.encrypt(secret) if secret else None,
        totp_last_step=0,
        disabled=False,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    uri = provisioning_uri(secret, username, issuer) if secret else None
    return NewUser(user, secret, uri)


def revoke_sessions(session: Session, user: StaffUser) -> int:
    result = session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    return int(getattr(result, "rowcount", 0) or 0)


def _active_owners(session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(StaffUser).where(StaffUser.role == OWNER, StaffUser.disabled.is_(False))
        ).scalar_one()
    )


def set_disabled(session: Session, user: StaffUser, disabled: bool) -> None:
    """Disable (and sign out everywhere) or re-enable a user. The last active owner cannot be disabled."""
    if disabled and user.role == OWNER and not user.disabled and _active_owners(session) <= 1:
        raise AccountError(f"{user.username!r} is the last active owner; add another owner first")
    user.disabled = disabled
    if disabled:
        revoke_sessions(session, user)
    else:
        user.failed_logins, user.locked_until = 0, None


def set_password(session: Session, user: StaffUser, password: str, *, issuer: str = "SafeDesk") -> None:
    """Set a new password (policy-checked), clear any lockout and end every session of the user."""
    check_password(password, [user.username, user.display_name, issuer])
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    user.failed_logins, user.locked_until = 0, None
    revoke_sessions(session, user)


def reset_totp(session: Session, cipher: Cipher, user: StaffUser, *, issuer: str = "SafeDesk") -> NewUser:
    secret = new_totp_secret()
    user.totp_secret_encrypted = cipher.encrypt(secret)
    user.totp_last_step = 0
    revoke_sessions(session, user)
    return NewUser(user, secret, provisioning_uri(secret, user.username, issuer))


# ---- sign-in ----------------------------------------------------------------------------------

MAX_FAILURES = 5  # per account, then ...
LOCKOUT = timedelta(minutes=15)  # ... locked for this long
IP_MAX_FAILURES = 20  # per address within IP_WINDOW, then throttled
IP_WINDOW = timedelta(minutes=15)
ATTEMPT_RETENTION = timedelta(days=2)
IN_FLIGHT_WAIT_SECONDS = 5.0  # how long a sign-in waits for attempts in flight before it locks the account
IN_FLIGHT_POLL_SECONDS = 0.1
_CHECKING = threading.Lock()
_GHOST_REPLAY_ROWS = 200  # an unknown name's newest failures replayed (locked attempts are never recorded)
_SIGN_IN_LOCK_KEY = 0x5AFE5161  # PostgreSQL advisory-lock key for sign-in checks (any constant)


class LoginStatus(enum.StrEnum):
    OK = "ok"
    INVALID = "invalid"  # wrong name, password or code (never says which)
    LOCKED = "locked"  # too many failures for this account
    THROTTLED = "throttled"  # too many failures from this address


@dataclass(frozen=True, slots=True)
class LoginResult:
    status: LoginStatus
    user_id: int | None = None
    username: str = ""
    retry_after_seconds: int = 0
    just_locked: bool = False

    @property
    def ok(self) -> bool:
        return self.status is LoginStatus.OK

    def message(self) -> str:
        if self.status is LoginStatus.LOCKED:
            minutes = max(1, -(-self.retry_after_seconds // 60))
            return f"Too many failed sign-ins for this account. Try again in {minutes} minute{'s' * (minutes != 1)}."
        if self.status is LoginStatus.THROTTLED:
            minutes = max(1, -(-self.retry_after_seconds // 60))
            return f"Too many failed sign-ins from your network. Try again in {minutes} minute{'s' * (minutes != 1)}."
        if self.status is LoginStatus.INVALID:
            # The same words whatever was wrong (nothing tells a guesser which part was right); the hint covers
            # the one case an owner cannot guess: a code that worked a moment ago is refused the second time.
            return (
                "Wrong user name, password or authenticator code. An authenticator code works only once: "
                "if you just used it, wait for the next one."
            )
        return ""


class SessionSource(Protocol):
    """Where sign-in gets its transactions: safedesk.storage.db.Database."""

    def session(self) -> AbstractContextManager[Session]: ...


@dataclass(frozen=True, slots=True)
class _Candidate:
    user_id: int
    password_hash: str
    totp_secret_encrypted: str | None
    totp_last_step: int
    disabled: bool


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds()) + 1)


@contextmanager
def _one_check_at_a_time(db: SessionSource) -> Iterator[Session]:
    """A transaction in which sign-in counters are read and an attempt reserved, one at a time: in this
    process (SQLite runs a single worker) and, on PostgreSQL, across workers (a transaction-scoped advisory
    lock). Without it, attempts sent at once all read the counters before any was recorded, and each got
    a guess past the lockout."""
    with _CHECKING, db.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"SELECT pg_advisory_xact_lock({_SIGN_IN_LOCK_KEY})"))
        yield session


def _storable(value: str) -> str:
    """A typed name or address as a database can keep it: no NUL (PostgreSQL refuses it), no lone surrogate."""
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def _recent_failures(session: Session, username: str) -> bool:
    return (
        session.execute(
            select(LoginAttempt.id).where(LoginAttempt.username == username, LoginAttempt.success.is_(False)).limit(1)
        ).first()
        is not None
    )


def _ghost_lockout(session: Session, username: str) -> tuple[int, datetime | None]:
    """(failures counted, locked until) for a name that is not an account, replaying its recorded failures
    with the rules a real account follows: the MAX_FAILURES-th failure locks for LOCKOUT and starts the
    count again. Locked and real accounts then answer alike, down to the Retry-After."""
    count, locked_until = 0, None
    newest = session.execute(
        select(LoginAttempt.ts)
        .where(LoginAttempt.username == username, LoginAttempt.success.is_(False))
        .order_by(LoginAttempt.ts.desc(), LoginAttempt.id.desc())
        .limit(_GHOST_REPLAY_ROWS)
    ).all()
    for (ts,) in reversed(newest):
        ts = as_utc(ts)
        if ts is None or (locked_until is not None and ts < locked_until):
            continue
        count += 1
        if count >= MAX_FAILURES:
            count, locked_until = 0, ts + LOCKOUT
    return count, locked_until


def _reserve_attempt(session: Session, username: str, ip: str, now: datetime, user: StaffUser | None = None) -> int:
    """Record the attempt as a failure before the password is checked (it counts against the limits while
    in flight, and against the account's failures too); `_settle_attempt` writes the outcome."""
    if user is not None:
        user.failed_logins = (user.failed_logins or 0) + 1
    attempt = LoginAttempt(username=username, ip=ip, success=False, ts=now)
    session.add(attempt)
    session.flush()
    return attempt.id


def _settle_attempt(session: Session, user: StaffUser, attempt_id: int, ok: bool, now: datetime) -> bool:
    """Write a reserved attempt's outcome; True when this failure locked the account. A failure was counted
    when it was reserved. A success clears the count, and a lock a sibling attempt set while this one was in
    flight (step 1 refuses a locked account): this attempt was one of the MAX_FAILURES guesses a lock allows,
    as one at a time would be, so a right password wins (a double submit must not lock its owner out)."""
    attempt = session.get(LoginAttempt, attempt_id)
    if attempt is not None:
        attempt.success = ok
    if ok:
        user.failed_logins, user.locked_until = 0, None
        return False
    locked_until = as_utc(user.locked_until)
    if (locked_until is None or locked_until <= now) and (user.failed_logins or 0) >= MAX_FAILURES:
        user.failed_logins, user.locked_until = 0, now + LOCKOUT
        return True
    return False


def authenticate(
    db: SessionSource,
    cipher: Cipher,
    username: str,
    password: str,
    code: str,
    ip: str,
    *,
    now: datetime | None = None,
    clock: float | None = None,
) -> LoginResult:
    """Check a sign-in. Records the attempt; applies the per-address throttle and per-account lockout.

    Three short steps, so the database (SQLite's single write lock) is never held while argon2 runs:
    read the counters and reserve the attempt (one sign-in at a time); verify the password and code (at
    most HASHING_AT_ONCE at a time); record the outcome.

    Unknown user names fail exactly like wrong passwords (same message, an argon2 verification of
    the same cost, and they lock after the same number of failures), so sign-in does not reveal
    which names exist.
    """
    now = now or utcnow()
    username = _storable(normalize_username(username))[:64]
    ip = _storable(ip or "unknown")[:64]

    # 1. Throttle and lockout state, and the account (if any); the attempt is reserved as a failure. When as
    # many attempts as may still fail are in flight, wait for them (up to IN_FLIGHT_WAIT_SECONDS): if one of
    # them is the right password, this one goes ahead; if they all fail, the account is locked by then.
    give_up_waiting = time.monotonic() + IN_FLIGHT_WAIT_SECONDS
    while True:
        with _one_check_at_a_time(db) as session:
            session.execute(delete(LoginAttempt).where(LoginAttempt.ts < now - ATTEMPT_RETENTION))
            ip_failures = session.execute(
                select(func.count(), func.min(LoginAttempt.ts)).where(
                    LoginAttempt.ip == ip, LoginAttempt.success.is_(False), LoginAttempt.ts > now - IP_WINDOW
                )
            ).one()
            if ip_failures[0] >= IP_MAX_FAILURES:
                oldest = as_utc(ip_failures[1]) or now
                return LoginResult(LoginStatus.THROTTLED, retry_after_seconds=_seconds_until(oldest + IP_WINDOW, now))
            user = get_user(session, username) if USERNAME_RE.match(username) else None
            candidate: _Candidate | None = None
            ghost_failures = 0
            waiting = False
            if user is None:
                ghost_failures, ghost_locked_until = _ghost_lockout(session, username)
                if ghost_locked_until is not None and ghost_locked_until > now:
                    return LoginResult(LoginStatus.LOCKED, retry_after_seconds=_seconds_until(ghost_locked_until, now))
            else:
                locked_until = as_utc(user.locked_until)
                if locked_until is not None and locked_until > now:
                    return LoginResult(LoginStatus.LOCKED, user.id, user.username, _seconds_until(locked_until, now))
                if user.failed_logins and not _recent_failures(session, username):
                    user.failed_logins = 0  # failures age out after ATTEMPT_RETENTION, as an unknown name's do
                if (user.failed_logins or 0) >= MAX_FAILURES:
                    if time.monotonic() < give_up_waiting:
                        waiting = True
                    else:  # still full: attempts that never finished (a worker died); lock, as failures would
                        user.failed_logins, user.locked_until = 0, now + LOCKOUT
                        return LoginResult(
                            LoginStatus.LOCKED, user.id, user.username, _seconds_until(now + LOCKOUT, now), True
                        )
                else:
                    candidate = _Candidate(
                        user.id,
                        user.password_hash,
                        user.totp_secret_encrypted,
                        user.totp_last_step or 0,
                        bool(user.disabled),
                    )
            if not waiting:
                attempt_id = _reserve_attempt(session, username, ip, now, user)
                break
        time.sleep(IN_FLIGHT_POLL_SECONDS)

    # 2. The expensive part, outside any transaction.
    if candidate is None:
        verify_password(_dummy_hash(), password)
        ok, step = False, None
    else:
        ok = verify_password(candidate.password_hash, password) and not candidate.disabled
        step = None
        if ok and candidate.totp_secret_encrypted:
            secret = cipher.decrypt(candidate.totp_secret_encrypted)
            step = verify_totp(secret, code, last_step=candidate.totp_last_step, now=clock)
            ok = step is not None
    rehash = hash_password(password) if ok and candidate is not None and needs_rehash(candidate.password_hash) else None

    # 3. Record the outcome (re-reading the account: it may have changed meanwhile).
    with db.session() as session:
        if candidate is None:
            return LoginResult(LoginStatus.INVALID, just_locked=ghost_failures + 1 >= MAX_FAILURES)
        user = session.execute(
            select(StaffUser).where(StaffUser.id == candidate.user_id).with_for_update()
        ).scalar_one_or_none()
        if user is None:  # removed meanwhile; the reserved attempt stays a failure
            return LoginResult(LoginStatus.INVALID)
        if ok and (
            user.disabled
            or user.password_hash != candidate.password_hash
            or (step is not None and step <= (user.totp_last_step or 0))  # a concurrent sign-in used this code
        ):
            ok = False
        just_locked = _settle_attempt(session, user, attempt_id, ok, now)
        if not ok:
            return LoginResult(LoginStatus.INVALID, user.id, user.username, just_locked=just_locked)
        if step is not None:
            user.totp_last_step = step
        user.last_login_at = now
        if rehash is not None:
            user.password_hash = rehash
        return LoginResult(LoginStatus.OK, user.id, user.username)


def check_current_password(
    db: SessionSource, username: str, password: str, ip: str, *, now: datetime | None = None
) -> None:
    """The signed-in user's current password, before it is changed. Wrong guesses count toward the same
    lockout as sign-in (a stolen session must not get unlimited guesses); raises AccountError."""
    now = now or utcnow()
    with _one_check_at_a_time(db) as session:
        user = require_user(session, username)
        just_locked = (user.failed_logins or 0) >= MAX_FAILURES  # that many failed or still in flight
        if just_locked:
            user.failed_logins, user.locked_until = 0, now + LOCKOUT
        locked_until = as_utc(user.locked_until)
        locked = locked_until is not None and locked_until > now
        if not locked:
            user_id, password_hash = user.id, user.password_hash
            attempt_id = _reserve_attempt(session, user.username, _storable(ip or "unknown")[:64], now, user)
    if locked:  # raised outside the transaction, so a lock set just now is kept
        assert locked_until is not None
        raise _locked_error(locked_until, now, just_locked=just_locked)
    ok = verify_password(password_hash, password)
    with db.session() as session:
        user = session.execute(select(StaffUser).where(StaffUser.id == user_id).with_for_update()).scalar_one()
        locked_now = _settle_attempt(session, user, attempt_id, ok, now)
    if ok:
        return
    if locked_now:
        raise _locked_error(now + LOCKOUT, now, just_locked=True)
    raise AccountError("Your current password is wrong.")


def _locked_error(locked_until: datetime, now: datetime, *, just_locked: bool) -> AccountLocked:
    minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
    wait = f"try again in {minutes} minute{'s' * (minutes != 1)}."
    if just_locked:
        return AccountLocked(f"Your current password is wrong, and that was too many tries: {wait}", just_locked=True)
    return AccountLocked(f"Too many wrong passwords: {wait}")
