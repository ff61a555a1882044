"""`safedesk users add|list|disable|enable|reset-password`: staff accounts from the command line.

Passwords are read from stdin when stdin is not a terminal (one line), else prompted for twice.
Weak or commonly breached passwords are refused with the reason (exit 2). An owner always gets a
TOTP second factor; its otpauth:// URI and secret are printed once.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from safedesk.errors import UserError

users_app = typer.Typer(help="Staff accounts: add, list, disable, reset passwords.", no_args_is_help=True)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="The business directory (has safedesk.yaml).")]
NameArg = Annotated[str, typer.Argument(help="The user name (lower-case letters, digits, '.', '_', '-').")]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _open(project: Path) -> tuple[Any, Any, str]:
    """(Database, Vault, issuer) of a business directory, without loading guards or knowledge."""
    from safedesk.config import Project
    from safedesk.storage.db import Database
    from safedesk.vault import Vault

    loaded = Project.load(project)
    db = Database(loaded.database_url)
    vault = Vault.of_project(loaded.data_dir)  # TOTP secrets are encrypted with the desk's key
    return db, vault, f"SafeDesk {loaded.config.business.name}"


def read_password(prompt: str = "Password") -> str:
    """One line from stdin when it is not a terminal; else ask twice, hidden."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            _fail("no password on stdin (pipe one line, or run in a terminal to be prompted)")
        return line.rstrip("\r\n")
    first = typer.prompt(prompt, hide_input=True)
    second = typer.prompt(f"{prompt} (again)", hide_input=True)
    if first != second:
        _fail("the two passwords differ")
    return first


def _run(action: Any) -> Any:
    try:
        return action()
    except UserError as exc:
        _fail(str(exc))


@users_app.command("add")
def add(
    project: ProjectOpt,
    name: NameArg,
    role: Annotated[str, typer.Option("--role", help="owner (all pages) or agent (inbox, replies, review).")],
    display_name: Annotated[
        str | None, typer.Option("--display-name", help="Shown to customers with staff replies (default: NAME).")
    ] = None,
    no_totp: Annotated[bool, typer.Option("--no-totp", help="Agents only: no authenticator code at sign-in.")] = False,
) -> None:
    """Add a staff user; the password comes from stdin (not a terminal) or is prompted for twice."""
    from safedesk import audit
    from safedesk.staff import accounts

    if role not in accounts.ROLES:
        _fail(f"invalid role {role!r} (use one of: {', '.join(accounts.ROLES)})")
    if no_totp and role == accounts.OWNER:
        _fail("--no-totp is only for agents: owners always use an authenticator code")
    username = _run(lambda: accounts.validate_username(name))
    db, vault, issuer = _run(lambda: _open(project))
    try:
        password = read_password()
        problems = accounts.password_problems(password, [username, display_name or "", issuer])
        if problems:
            _fail("password refused: " + "; ".join(problems))

        def create() -> tuple[str, str | None, str | None]:
            with db.session() as session:
                created = accounts.create_user(
                    session,
                    vault,
                    username,
                    role,
                    password,
                    display_name=display_name or username,
                    totp=not no_totp,
                    issuer=issuer,
                )
                audit.append(
                    session,
                    "staff.user_add",
                    actor="cli",
                    data={"user": username, "role": role, "totp": created.totp_secret is not None},
                )
                return created.user.username, created.totp_secret, created.totp_uri

        user, secret, uri = _run(create)
    finally:
        db.dispose()
    typer.echo(f"added {role} {user}")
    if secret:
        typer.echo("Add this to the user's authenticator app now; it is shown only once:")
        typer.echo(f"  secret: {secret}")
        typer.echo(f"  uri:    {uri}")


@users_app.command("list")
def list_users(
    project: ProjectOpt,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout.")] = False,
) -> None:
    """List staff users: name, role, second factor, status, last sign-in."""
    from safedesk.staff import accounts

    db, _vault, _issuer = _run(lambda: _open(project))
    try:
        with db.session() as session:
            users = [
                {
                    "username": u.username,
                    "display_name": u.display_name,
                    "role": u.role,
                    "totp": u.has_totp,
                    "disabled": u.disabled,
                    "last_login": accounts.as_utc(u.last_login_at).isoformat() if u.last_login_at else None,
                }
                for u in accounts.list_users(session)
            ]
    finally:
        db.dispose()
    machine = as_json or not sys.stdout.isatty()
    for u in users:
        if machine:
            typer.echo(json.dumps(u, ensure_ascii=False))
        else:
            typer.echo(
                f"{u['username']:<20} {u['role']:<6} {'totp' if u['totp'] else 'no-2fa':<7} "
                f"{'DISABLED' if u['disabled'] else 'active':<9} {u['display_name']}"
                f"  last sign-in: {u['last_login'] or 'never'}"
            )
    if not users and not machine:
        typer.echo("no staff users yet; add one with: safedesk users add --project DIR NAME --role owner")


def _set_disabled(project: Path, name: str, disabled: bool) -> None:
    from safedesk import audit
    from safedesk.staff import accounts

    db, _vault, _issuer = _run(lambda: _open(project))

    def change() -> None:
        with db.session() as session:
            user = accounts.require_user(session, name)
            accounts.set_disabled(session, user, disabled)
            audit.append(
                session,
                "staff.user_disable" if disabled else "staff.user_enable",
                actor="cli",
                data={"user": user.username},
            )

    try:
        _run(change)
    finally:
        db.dispose()
    typer.echo(f"{'disabled' if disabled else 'enabled'} {accounts.normalize_username(name)}")


@users_app.command("disable")
def disable(project: ProjectOpt, name: NameArg) -> None:
    """Disable a user and end all their sessions (the last active owner cannot be disabled)."""
    _set_disabled(project, name, True)


@users_app.command("enable")
def enable(project: ProjectOpt, name: NameArg) -> None:
    """Enable a disabled user again (and clear any sign-in lockout)."""
    _set_disabled(project, name, False)


@users_app.command("reset-password")
def reset_password(
    project: ProjectOpt,
    name: NameArg,
    reset_totp: Annotated[bool, typer.Option("--reset-totp", help="Also issue a new authenticator secret.")] = False,
) -> None:
    """Set a new password (stdin or prompt), clear any lockout and end the user's sessions."""
    from safedesk import audit
    from safedesk.staff import accounts

    db, vault, issuer = _run(lambda: _open(project))
    try:
        with db.session() as session:
            if accounts.get_user(session, name) is None:
                _fail(f"no staff user named {accounts.normalize_username(name)!r}")
        password = read_password("New password")

        def change() -> tuple[str, str | None, str | None]:
            with db.session() as session:
                user = accounts.require_user(session, name)
                accounts.set_password(session, user, password, issuer=issuer)
                secret = uri = None
                if reset_totp:
                    fresh = accounts.reset_totp(session, vault, user, issuer=issuer)
                    secret, uri = fresh.totp_secret, fresh.totp_uri
                audit.append(
                    session,
                    "staff.user_reset_password",
                    actor="cli",
                    data={"user": user.username, "totp_reset": reset_totp},
                )
                return user.username, secret, uri

        user, secret, uri = _run(change)
    finally:
        db.dispose()
    typer.echo(f"password changed for {user}; their sessions were ended")
    if secret:
        typer.echo("New authenticator secret (shown only once):")
        typer.echo(f"  secret: {secret}")
        typer.echo(f"  uri:    {uri}")
