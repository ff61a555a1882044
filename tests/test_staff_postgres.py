"""The staff app on PostgreSQL (the multi-worker deployment): migration, sign-in, inbox actions,
review sampling and the dashboard's SQL, against the server at 127.0.0.1:5432."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from safedesk import audit
from safedesk.staff import accounts
from safedesk.staff.harness import LightDesk, staff_app
from safedesk.storage.models import Message
from safedesk.storage.staff_models import ReviewItem

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("fast_argon2")]

ADMIN_URL = os.environ.get("SAFEDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_desk(tmp_path: Path) -> Iterator[LightDesk]:
    try:
        with create_engine(ADMIN_URL).connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"no PostgreSQL at {ADMIN_URL}: {type(exc).__name__}")
    name = f"safedesk_staff_{secrets.token_hex(4)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    desk = LightDesk.open(tmp_path / "shop", database_url=url, sample_rate=1.0)
    try:
        yield desk
    finally:
        desk.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_staff_flow_on_postgres(pg_desk: LightDesk) -> None:
    from test_staff_web import CSRF, seed_answers, seed_handoff, seed_held

    with pg_desk.db.session() as session:
        secret = accounts.create_user(session, pg_desk.vault, "olga", "owner", "kayak-fjord-lantern-42").totp_secret
    assert secret
    handoff, held = seed_handoff(pg_desk), seed_held(pg_desk)
    seed_answers(pg_desk, 5)

    client = TestClient(staff_app(pg_desk))
    page = client.get("/staff/login")
    token = CSRF.search(page.text).group(1)
    form = {
        "username": "olga",
        "password": "kayak-fjord-lantern-42",
        "code": pyotp.TOTP(secret).now(),
        "csrf_token": token,
    }
    assert client.post("/staff/login", data=form, follow_redirects=False).status_code == 303
    token = CSRF.search(client.get("/staff/inbox").text).group(1)

    assert "c-person" in client.get("/staff/inbox").text
    assert client.post("/staff/conversations/c-person/reveal", data={"csrf_token": token}).status_code == 200
    for path, data in (
        ("/staff/conversations/c-person/reply", {"text": "Hello from Olga"}),
        (f"/staff/tasks/{handoff}/assign", {}),
        (f"/staff/tasks/{held}/approve", {}),
        (f"/staff/tasks/{handoff}/close", {}),
    ):
        response = client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)
        assert response.status_code == 303, (path, response.text)

    assert "We open at 09:00." in client.get("/staff/review").text
    with pg_desk.db.session() as session:
        item = session.execute(select(ReviewItem)).scalars().first()
        assert item is not None
    assert (
        client.post(
            f"/staff/review/{item.id}", data={"csrf_token": token, "verdict": "correct"}, follow_redirects=False
        ).status_code
        == 303
    )
    dashboard = client.get("/staff/dashboard")
    assert dashboard.status_code == 200 and dashboard.text.count("<svg") == 4
    assert "Answered by AI: 6" in dashboard.text

    with pg_desk.db.session() as session:
        assert session.execute(select(Message).where(Message.role == "staff")).scalar_one().author == "olga"
        assert audit.verify(session).ok


@pytest.mark.parametrize("name", ["bob\x00", "\x00", "bob\ud800"])
def test_a_name_with_nul_or_a_lone_surrogate_fails_like_any_wrong_name(pg_desk: LightDesk, name: str) -> None:
    """Found by a bug hunt: a NUL in the user name gave a 500 on PostgreSQL (text cannot hold NUL)."""
    result = accounts.authenticate(pg_desk.db, pg_desk.vault, name, "wrong-password-123", "", "10.0.0.1\x00")
    assert result.status is accounts.LoginStatus.INVALID
