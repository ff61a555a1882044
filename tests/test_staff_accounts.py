"""Staff accounts: password policy, argon2, TOTP, lockout and throttling, roles, the users CLI, the migration."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import create_engine, func, inspect, select
from typer.testing import CliRunner

from safedesk.staff import accounts
from safedesk.staff.accounts import LoginStatus
from safedesk.staff.cli_users import users_app
from safedesk.staff.harness import LightDesk
from safedesk.storage.staff_models import LoginAttempt, StaffSession, StaffUser

pytestmark = pytest.mark.usefixtures("fast_argon2")  # cheap argon2: see conftest.py

GOOD = "kayak-fjord-lantern-42"
OTHER_GOOD = "correct horse battery staple 9"


@pytest.fixture
def light(tmp_path: Path) -> Iterator[LightDesk]:
    desk = LightDesk.open(tmp_path / "shop")
    yield desk
    desk.close()


# ---- password policy (a table) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "too short"),
        ("Tr0ub4dor&3", "too short"),  # 11 characters
        ("password1234", "commonly breached"),
        ("Password123!", "commonly breached"),
        ("qwertyuiop123", "commonly breached"),
        ("iloveyou1234", "commonly breached"),
        ("123456789012", "commonly breached"),
        ("1qaz2wsx3edc", "commonly breached"),
        ("aaaaaaaaaaaaaaa", "too easy to guess"),
        ("abcdefghijklmnopq", "too easy to guess"),
        ("alice-alice-2024!", "user name"),
        ("Test Shop rules 2026", "business's name"),
        (" leading-space-pass", "spaces"),
        ("x" * 300, "too long"),
        (GOOD, None),
        (OTHER_GOOD, None),
        ("Tr0ub4dor&3xK!q", None),
        ("vinter-ski-telt-Bergen-7", None),
    ],
)
def test_password_policy(password: str, reason: str | None) -> None:
    problems = accounts.password_problems(password, ["alice", "Alice A.", "SafeDesk Test Shop"])
    if reason is None:
        assert problems == []
    else:
        assert problems, f"{password!r} should be refused"
        assert any(reason in p for p in problems), problems


def test_a_refused_password_names_the_word_it_shares_with_the_names() -> None:
    """Found by a new-user walkthrough: refused as "contains your user name or the business's name", while the
    word came from the display name "Kari (eier)"."""
    problems = accounts.password_problems("Sykkel-eier-fjord-2026", ["kari", "Kari (eier)", "Eikeland"])
    assert any('"eier"' in p and "display name" in p for p in problems), problems


def test_weak_password_error_says_why() -> None:
    with pytest.raises(accounts.WeakPassword) as caught:
        accounts.check_password("password1234")
    assert "commonly breached" in str(caught.value)
    assert "too easy to guess" in str(caught.value)


def test_shipped_list_has_hundreds_of_common_passwords() -> None:
    common = accounts.common_passwords()
    assert len(common) >= 300
    assert {"123456", "password", "qwerty", "iloveyou", "password1234"} <= common


# ---- hashing ----------------------------------------------------------------------------------


@pytest.fixture
def real_argon2() -> None:
    """Requested by tests that need the production argon2 parameters."""


def test_argon2id_hash_verify_and_salt(real_argon2: None) -> None:
    params = accounts._hasher  # the production parameters: argon2id, RFC 9106 low-memory profile
    assert (params.time_cost, params.memory_cost, params.parallelism) == (3, 65536, 4)
    first, second = accounts.hash_password(GOOD), accounts.hash_password(GOOD)
    assert first.startswith("$argon2id$")
    assert first != second  # random salt
    assert GOOD not in first
    assert accounts.verify_password(first, GOOD)
    assert not accounts.verify_password(first, GOOD + "x")
    assert not accounts.verify_password("not-a-hash", GOOD)
    assert not accounts.needs_rehash(first)


# ---- TOTP -------------------------------------------------------------------------------------


def test_totp_accepts_current_and_adjacent_steps_only() -> None:
    secret = accounts.new_totp_secret()
    totp = pyotp.TOTP(secret)
    now = time.time()
    step = int(now // 30)
    assert accounts.verify_totp(secret, totp.at(now), now=now) == step
    assert accounts.verify_totp(secret, totp.at(now - 30), now=now) == step - 1
    assert accounts.verify_totp(secret, totp.at(now + 30), now=now) == step + 1
    assert accounts.verify_totp(secret, totp.at(now - 90), now=now) is None
    assert accounts.verify_totp(secret, "12345", now=now) is None
    assert accounts.verify_totp(secret, "abcdef", now=now) is None
    spaced = totp.at(now)
    assert accounts.verify_totp(secret, f"{spaced[:3]} {spaced[3:]}", now=now) == step


def test_totp_code_cannot_be_replayed() -> None:
    secret = accounts.new_totp_secret()
    now = time.time()
    code = pyotp.TOTP(secret).at(now)
    step = accounts.verify_totp(secret, code, now=now)
    assert step is not None
    assert accounts.verify_totp(secret, code, last_step=step, now=now) is None


def test_provisioning_uri_names_user_and_issuer() -> None:
    secret = accounts.new_totp_secret()
    uri = accounts.provisioning_uri(secret, "alice", "SafeDesk Test Shop")
    assert uri.startswith("otpauth://totp/")
    assert "alice" in uri and f"secret={secret}" in uri and "issuer=SafeDesk" in uri


# ---- users ------------------------------------------------------------------------------------


def test_owner_gets_totp_and_secret_is_stored_encrypted(light: LightDesk) -> None:
    with light.db.session() as session:
        created = accounts.create_user(session, light.vault, "Alice", "owner", GOOD, display_name="Alice A.")
        assert created.user.username == "alice"
        assert created.totp_secret and created.totp_uri and created.totp_uri.startswith("otpauth://")
    with light.db.session() as session:
        user = accounts.require_user(session, "alice")
        assert user.totp_secret_encrypted and created.totp_secret not in user.totp_secret_encrypted
        assert light.vault.decrypt(user.totp_secret_encrypted) == created.totp_secret
        assert user.password_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("username", "role", "password", "totp", "message"),
    [
        ("bob", "owner", GOOD, False, "owners must use a second factor"),
        ("bob", "admin", GOOD, True, "invalid role"),
        ("Bob Smith", "agent", GOOD, True, "invalid user name"),
        ("../bob", "agent", GOOD, True, "invalid user name"),
        ("bob", "agent", "password1234", True, "password refused"),
    ],
)
def test_create_user_refuses(
    light: LightDesk, username: str, role: str, password: str, totp: bool, message: str
) -> None:
    with light.db.session() as session, pytest.raises(accounts.AccountError, match=message):
        accounts.create_user(session, light.vault, username, role, password, totp=totp)


def test_duplicate_user_is_refused(light: LightDesk) -> None:
    with light.db.session() as session:
        accounts.create_user(session, light.vault, "bob", "agent", GOOD, totp=False)
    with light.db.session() as session, pytest.raises(accounts.AccountError, match="already exists"):
        accounts.create_user(session, light.vault, "BOB", "agent", OTHER_GOOD, totp=False)


def test_last_owner_cannot_be_disabled_and_disabling_ends_sessions(light: LightDesk) -> None:
    from safedesk.staff.auth import create_session

    with light.db.session() as session:
        owner = accounts.create_user(session, light.vault, "alice", "owner", GOOD).user
        agent = accounts.create_user(session, light.vault, "bob", "agent", OTHER_GOOD, totp=False).user
        create_session(session, agent.id)
    with light.db.session() as session:
        owner = accounts.require_user(session, "alice")
        with pytest.raises(accounts.AccountError, match="last active owner"):
            accounts.set_disabled(session, owner, True)
        agent = accounts.require_user(session, "bob")
        accounts.set_disabled(session, agent, True)
    with light.db.session() as session:
        assert session.execute(select(StaffSession)).first() is None
        assert accounts.require_user(session, "bob").disabled


# ---- sign-in: lockout and throttle -------------------------------------------------------------


def _make_agent(light: LightDesk, name: str = "bob", totp: bool = False) -> str | None:
    with light.db.session() as session:
        return accounts.create_user(session, light.vault, name, "agent", GOOD, totp=totp).totp_secret


def _login(light: LightDesk, name: str, password: str, code: str = "", ip: str = "10.0.0.1", **kw):  # type: ignore[no-untyped-def]
    return accounts.authenticate(light.db, light.vault, name, password, code, ip, **kw)


def test_login_needs_password_and_totp_code(light: LightDesk) -> None:
    secret = _make_agent(light, totp=True)
    assert secret
    assert _login(light, "bob", GOOD).status is LoginStatus.INVALID  # code missing
    assert _login(light, "bob", "wrong-password-123", pyotp.TOTP(secret).now()).status is LoginStatus.INVALID
    result = _login(light, "bob", GOOD, pyotp.TOTP(secret).now())
    assert result.ok and result.username == "bob" and result.user_id is not None
    # The same code again (replay) is refused.
    assert _login(light, "bob", GOOD, pyotp.TOTP(secret).now()).status is LoginStatus.INVALID


def test_five_failures_lock_the_account_for_fifteen_minutes(light: LightDesk) -> None:
    _make_agent(light)
    now = accounts.utcnow()
    results = [_login(light, "bob", f"wrong-{i}", now=now + timedelta(seconds=i)) for i in range(5)]
    assert [r.status for r in results] == [LoginStatus.INVALID] * 5
    assert results[-1].just_locked
    locked = _login(light, "bob", GOOD, now=now + timedelta(minutes=1))
    assert locked.status is LoginStatus.LOCKED
    assert "Try again in 14 minutes" in locked.message() or "Try again in 15 minutes" in locked.message()
    assert _login(light, "bob", GOOD, now=now + timedelta(minutes=14)).status is LoginStatus.LOCKED
    assert _login(light, "bob", GOOD, now=now + timedelta(minutes=16)).ok


def test_success_resets_the_failure_count(light: LightDesk) -> None:
    _make_agent(light)
    for i in range(4):
        _login(light, "bob", f"wrong-{i}")
    assert _login(light, "bob", GOOD).ok
    for i in range(4):
        assert _login(light, "bob", f"wrong-again-{i}").status is LoginStatus.INVALID
    assert _login(light, "bob", GOOD).ok


def test_unknown_user_fails_and_locks_like_a_real_one(light: LightDesk) -> None:
    _make_agent(light)
    real = _login(light, "bob", "wrong-password")
    ghost = _login(light, "nobody", "wrong-password")
    assert real.message() == ghost.message()
    for _ in range(4):
        _login(light, "nobody", "wrong-password")
    assert _login(light, "nobody", GOOD).status is LoginStatus.LOCKED


def test_a_locked_unknown_name_answers_exactly_like_a_locked_account(light: LightDesk) -> None:
    """Found by a security review: after a pause between failures, a real account said "try again in 15
    minutes" and an unknown name "14 minutes", which told which names exist."""
    _make_agent(light)
    start = accounts.utcnow()
    results = {}
    for name, ip in (("bob", "10.0.0.7"), ("nobody", "10.0.0.8")):
        _login(light, name, "wrong-password", ip=ip, now=start)
        for i in range(accounts.MAX_FAILURES - 1):
            _login(light, name, f"wrong-{i}", ip=ip, now=start + timedelta(seconds=90 + i))
        later = _login(light, name, "wrong-again", ip=ip, now=start + timedelta(seconds=120))
        results[name] = (later.status, later.retry_after_seconds, later.message())
    assert results["bob"] == results["nobody"]
    assert results["bob"][0] is LoginStatus.LOCKED


def test_per_ip_throttle(light: LightDesk) -> None:
    _make_agent(light)
    for i in range(accounts.IP_MAX_FAILURES):
        _login(light, f"guess{i}", "wrong-password", ip="203.0.113.9")
    throttled = _login(light, "bob", GOOD, ip="203.0.113.9")
    assert throttled.status is LoginStatus.THROTTLED and throttled.retry_after_seconds > 0
    assert "network" in throttled.message()
    assert _login(light, "bob", GOOD, ip="198.51.100.7").ok  # another address is not affected


class _SlowHasher:
    """Wraps the hasher: each verification takes a while, and the most running at once is recorded."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.running, self.most = inner, 0, 0
        self.lock = threading.Lock()

    def verify(self, password_hash: str, password: str) -> bool:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.05)
            return self.inner.verify(password_hash, password)
        finally:
            with self.lock:
                self.running -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_sign_ins_sent_at_once_get_no_more_guesses_than_one_at_a_time(
    light: LightDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a security review: 30 sign-ins sent at once all read the counters before any was recorded,
    so 29 wrong guesses were checked and the right one signed in past the lockout; and each argon2 check
    takes 64 MiB, so 40 at once took the server from 350 MB to 2.8 GB."""
    _make_agent(light)
    slow = _SlowHasher(accounts._hasher)
    monkeypatch.setattr(accounts, "_hasher", slow)
    passwords = [f"wrong-guess-{i}" for i in range(15)] + [GOOD]
    barrier = threading.Barrier(len(passwords))

    def attempt(password: str) -> LoginStatus:
        barrier.wait()
        return _login(light, "bob", password, ip="10.9.9.9").status

    with ThreadPoolExecutor(len(passwords)) as pool:
        statuses = list(pool.map(attempt, passwords))
    checked = statuses.count(LoginStatus.INVALID) + statuses.count(LoginStatus.OK)
    assert slow.most <= accounts.HASHING_AT_ONCE
    with light.db.session() as session:
        assert session.execute(select(func.count()).select_from(LoginAttempt)).scalar_one() == checked
    # As one at a time: at most MAX_FAILURES guesses, then a lock. The right password (the last) signs in only
    # if it was among them; a success starts the count again, so at most MAX_FAILURES - 1 wrong ones came
    # before it and MAX_FAILURES after.
    assert statuses.count(LoginStatus.OK) <= 1 and (LoginStatus.OK not in statuses or statuses[-1] is LoginStatus.OK)
    if LoginStatus.OK in statuses:
        assert statuses.count(LoginStatus.INVALID) <= 2 * accounts.MAX_FAILURES - 1
    else:
        assert checked <= accounts.MAX_FAILURES
        assert _login(light, "bob", GOOD, ip="10.9.9.8").status is LoginStatus.LOCKED


def test_a_double_submitted_right_password_after_typos_signs_in(
    light: LightDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a review: after four typos, the right password sent twice at once (a double click) was
    reported wrong and locked the account for 15 minutes."""
    _make_agent(light)
    for i in range(accounts.MAX_FAILURES - 1):
        _login(light, "bob", f"typo-{i}")
    monkeypatch.setattr(accounts, "_hasher", _SlowHasher(accounts._hasher))
    barrier = threading.Barrier(2)

    def attempt(_: int) -> LoginStatus:
        barrier.wait()
        return _login(light, "bob", GOOD).status

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(attempt, range(2)))
    assert statuses == [LoginStatus.OK, LoginStatus.OK]  # the second waited for the first: both sign in
    assert _login(light, "bob", GOOD).ok  # and the account is not locked


def test_an_accounts_old_failures_age_out_like_an_unknown_names(light: LightDesk) -> None:
    """Found by a review: an unknown name's failures expire after two days, an account's never did, so
    four old failures plus one new one told the two apart."""
    _make_agent(light)
    start = accounts.utcnow()
    for name, ip in (("bob", "10.0.1.1"), ("nobody", "10.0.1.2")):
        for i in range(accounts.MAX_FAILURES - 1):
            _login(light, name, f"old-{i}", ip=ip, now=start)
    later = start + accounts.ATTEMPT_RETENTION + timedelta(hours=1)
    results = [
        _login(light, name, "new-wrong", ip=ip, now=later) for name, ip in (("bob", "10.0.1.1"), ("nobody", "10.0.1.2"))
    ]
    assert [r.just_locked for r in results] == [False, False]


def test_changing_the_password_counts_wrong_current_passwords_toward_the_lockout(light: LightDesk) -> None:
    """Found by a security review: a stolen session could guess the current password without limit."""
    _make_agent(light)
    for i in range(accounts.MAX_FAILURES):
        with pytest.raises(accounts.AccountError, match="current password is wrong"):
            accounts.check_current_password(light.db, "bob", f"guess-{i}", "10.0.0.5")
    with pytest.raises(accounts.AccountError, match="Too many wrong passwords: try again in 15 minutes"):
        accounts.check_current_password(light.db, "bob", GOOD, "10.0.0.5")
    assert _login(light, "bob", GOOD).status is LoginStatus.LOCKED
    with light.db.session() as session:
        assert session.execute(select(func.count()).select_from(LoginAttempt)).scalar_one() == accounts.MAX_FAILURES


def test_the_right_current_password_resets_the_failure_count(light: LightDesk) -> None:
    _make_agent(light)
    for i in range(accounts.MAX_FAILURES - 1):
        with pytest.raises(accounts.AccountError):
            accounts.check_current_password(light.db, "bob", f"guess-{i}", "10.0.0.5")
    accounts.check_current_password(light.db, "bob", GOOD, "10.0.0.5")
    assert _login(light, "bob", GOOD).ok


def test_disabled_user_cannot_sign_in(light: LightDesk) -> None:
    _make_agent(light)
    with light.db.session() as session:
        session.execute(select(StaffUser)).scalar_one().disabled = True
    assert _login(light, "bob", GOOD).status is LoginStatus.INVALID


def test_attempts_are_recorded(light: LightDesk) -> None:
    _make_agent(light)
    _login(light, "bob", "wrong-password", ip="10.1.1.1")
    _login(light, "bob", GOOD, ip="10.1.1.1")
    with light.db.session() as session:
        rows = session.execute(select(LoginAttempt.username, LoginAttempt.success)).all()
    assert [tuple(r) for r in rows] == [("bob", False), ("bob", True)]


# ---- roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("permission", "agent", "owner"),
    [
        ("inbox", True, True),
        ("reply", True, True),
        ("reveal", True, True),
        ("review", True, True),
        ("account", True, True),
        ("knowledge", False, True),
        ("users", False, True),
        ("dashboard", False, True),
        ("no-such-permission", False, False),
    ],
)
def test_role_permissions(permission: str, agent: bool, owner: bool) -> None:
    assert accounts.can("agent", permission) is agent
    assert accounts.can("owner", permission) is owner
    assert not accounts.can("customer", permission)


# ---- the users CLI ----------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "biz"
    (root / "knowledge").mkdir(parents=True)
    (root / "safedesk.yaml").write_text("business:\n  name: Test Shop\n", encoding="utf-8")
    return root


def cli(*args: str, stdin: str = "") -> tuple[int, str]:
    result = CliRunner().invoke(users_app, list(args), input=stdin)
    return result.exit_code, result.output


def test_cli_add_owner_prints_totp_once_and_list_shows_it(project: Path) -> None:
    code, out = cli("add", "--project", str(project), "alice", "--role", "owner", stdin=GOOD + "\n")
    assert code == 0, out
    assert "added owner alice" in out and "otpauth://totp/" in out and "secret:" in out
    code, out = cli("list", "--project", str(project), "--json")
    assert code == 0 and '"username": "alice"' in out and '"totp": true' in out
    assert "otpauth" not in out


def test_cli_agent_without_totp(project: Path) -> None:
    code, out = cli(
        "add",
        "--project",
        str(project),
        "bob",
        "--role",
        "agent",
        "--no-totp",
        "--display-name",
        "Bob B.",
        stdin=GOOD + "\n",
    )
    assert code == 0, out
    assert "otpauth" not in out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["carol", "--role", "agent"], "password1234\n", "commonly breached"),
        (["carol", "--role", "agent"], "short\n", "too short"),
        (["carol", "--role", "owner", "--no-totp"], GOOD + "\n", "only for agents"),
        (["carol", "--role", "boss"], GOOD + "\n", "invalid role"),
        (["Carol Smith", "--role", "agent"], GOOD + "\n", "invalid user name"),
        (["carol", "--role", "agent"], "", "no password on stdin"),
    ],
)
def test_cli_add_refusals_exit_2_with_reason(project: Path, args: list[str], stdin: str, message: str) -> None:
    code, out = cli("add", "--project", str(project), *args, stdin=stdin)
    assert code == 2, out
    assert message in out


def test_cli_disable_enable_and_reset_password(project: Path) -> None:
    assert cli("add", "--project", str(project), "alice", "--role", "owner", stdin=GOOD + "\n")[0] == 0
    assert cli("add", "--project", str(project), "bob", "--role", "agent", "--no-totp", stdin=GOOD + "\n")[0] == 0
    code, out = cli("disable", "--project", str(project), "alice")
    assert code == 2 and "last active owner" in out
    assert cli("disable", "--project", str(project), "bob") == (0, "disabled bob\n")
    assert '"disabled": true' in cli("list", "--project", str(project), "--json")[1]
    assert cli("enable", "--project", str(project), "bob")[0] == 0
    code, out = cli("reset-password", "--project", str(project), "bob", stdin="password1234\n")
    assert code == 2 and "commonly breached" in out
    code, out = cli("reset-password", "--project", str(project), "bob", "--reset-totp", stdin=OTHER_GOOD + "\n")
    assert code == 0 and "otpauth://" in out
    code, out = cli("reset-password", "--project", str(project), "nobody", stdin=OTHER_GOOD + "\n")
    assert code == 2 and "no staff user" in out
    desk = LightDesk.open(project)
    try:
        with desk.db.session() as session:
            bob = accounts.require_user(session, "bob")
            assert accounts.verify_password(bob.password_hash, OTHER_GOOD)
            assert bob.has_totp
    finally:
        desk.close()


def test_cli_missing_project_is_exit_2(tmp_path: Path) -> None:
    code, out = cli("list", "--project", str(tmp_path / "nope"))
    assert code == 2 and "not a SafeDesk business directory" in out


def test_cli_users_and_the_desk_use_the_same_vault_key(tmp_path: Path) -> None:
    """TOTP secrets written by `safedesk users` must decrypt with the key the running desk uses."""
    from safedesk.staff.harness import LightDesk
    from safedesk.vault import VAULT_KEY_FILE, Vault

    desk = LightDesk.open(tmp_path / "shop")
    try:
        token = desk.vault.encrypt("totp-secret")
        assert Vault(desk.project.data_dir / VAULT_KEY_FILE).decrypt(token) == "totp-secret"
        assert Vault.of_project(desk.project.data_dir).decrypt(token) == "totp-secret"
    finally:
        desk.close()


# ---- the migration ----------------------------------------------------------------------------


def test_migration_creates_the_staff_tables_as_modelled(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from safedesk.storage.db import migrate
    from safedesk.storage.models import Base

    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"staff_users", "staff_sessions", "staff_login_attempts", "review_items", "staff_state"} <= tables
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    staff_diff = [d for d in diff if "staff" in repr(d) or "review_items" in repr(d)]
    assert staff_diff == []
    engine.dispose()


def test_a_lockout_by_a_burst_is_reported_once_for_the_audit_log(
    light: LightDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the verification run: a lock set by a concurrent burst was never marked `just_locked`, so
    the sign-in page wrote no staff.lockout event."""
    _make_agent(light)
    monkeypatch.setattr(accounts, "_hasher", _SlowHasher(accounts._hasher))
    barrier = threading.Barrier(8)

    def attempt(i: int) -> accounts.LoginResult:
        barrier.wait()
        return _login(light, "bob", f"wrong-{i}", ip="10.7.7.7")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert sum(r.just_locked for r in results) == 1
    assert _login(light, "bob", GOOD, ip="10.7.7.8").status is LoginStatus.LOCKED
