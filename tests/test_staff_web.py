"""The staff web app through FastAPI's TestClient: sign-in, sessions, CSRF, role checks, security
headers, every inbox action (audited), reveal, knowledge, users, review and the dashboard."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safedesk.domain import Role
from safedesk.staff import accounts
from safedesk.staff.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, hash_token
from safedesk.staff.harness import LightDesk, staff_app
from safedesk.storage import repository as repo
from safedesk.storage.models import AuditEvent, Conversation, Message, Task
from safedesk.storage.staff_models import ReviewItem, StaffSession

pytestmark = pytest.mark.usefixtures("fast_argon2")  # cheap argon2: see conftest.py

OWNER_PW = "kayak-fjord-lantern-42"
AGENT_PW = "correct horse battery staple 9"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def light(tmp_path: Path) -> Iterator[LightDesk]:
    desk = LightDesk.open(tmp_path / "shop", sample_rate=0.5)
    yield desk
    desk.close()


@pytest.fixture
def owner_secret(light: LightDesk) -> str:
    with light.db.session() as session:
        created = accounts.create_user(session, light.vault, "olga", "owner", OWNER_PW, display_name="Olga")
        accounts.create_user(session, light.vault, "kari", "agent", AGENT_PW, display_name="Kari", totp=False)
    assert created.totp_secret
    return created.totp_secret


@pytest.fixture
def client(light: LightDesk, owner_secret: str) -> TestClient:
    return TestClient(staff_app(light))


def login(client: TestClient, username: str, password: str, code: str = "", next_url: str = "") -> Any:
    page = client.get("/staff/login")
    token = CSRF.search(page.text).group(1)
    return client.post(
        "/staff/login",
        data={"username": username, "password": password, "code": code, "csrf_token": token, "next": next_url},
        follow_redirects=False,
    )


def as_agent(client: TestClient) -> str:
    response = login(client, "kari", AGENT_PW)
    assert response.status_code == 303, response.text
    return csrf(client)


def as_owner(client: TestClient, secret: str) -> str:
    response = login(client, "olga", OWNER_PW, pyotp.TOTP(secret).now())
    assert response.status_code == 303, response.text
    return csrf(client)


def csrf(client: TestClient, path: str = "/staff/account") -> str:
    return CSRF.search(client.get(path).text).group(1)


def audit_events(light: LightDesk, kind: str) -> list[AuditEvent]:
    with light.db.session() as session:
        return list(session.execute(select(AuditEvent).where(AuditEvent.kind == kind)).scalars())


def seed_handoff(
    light: LightDesk,
    cid: str = "c-person",
    text: str = "I want a person, mail me at <EMAIL_ADDRESS_1>",
    original: str = "I want a person, mail me at ola@example.com",
) -> int:
    with light.db.session() as session:
        message, _ = repo.record_inbound(session, cid, light.vault.encrypt(original), None, "web")
        message.text, message.status, message.lane, message.topic = text, "processed", "human", "human_request"
        message.findings = [
            {"guard": "router", "kind": "topic", "score": 0.93, "reason": "asks for a person", "label": "human_request"}
        ]
        repo.add_vault_entry(session, cid, "<EMAIL_ADDRESS_1>", "EMAIL_ADDRESS", light.vault.encrypt("ola@example.com"))
        repo.add_message(
            session,
            cid,
            Role.ASSISTANT,
            "A member of our team will answer.",
            status="delivered",
            lane="human",
            topic="human_request",
            reply_to=message.id,
        )
        conversation = session.get(Conversation, cid)
        assert conversation is not None
        repo.touch(conversation, status="human", last_lane="human", last_topic="human_request")
        return repo.open_task(
            session, cid, "handoff", "customer asked for a person", message.id, {"topic": "human_request"}
        ).id


def seed_held(light: LightDesk, cid: str = "c-refund", draft: str = "We will refund you 500 NOK today.") -> int:
    with light.db.session() as session:
        message, _ = repo.record_inbound(session, cid, light.vault.encrypt("Where is my refund?"), None, "web")
        message.text, message.status, message.lane, message.topic = (
            "Where is my refund?",
            "processed",
            "answer",
            "other",
        )
        held = repo.add_message(
            session,
            cid,
            Role.ASSISTANT,
            draft,
            status="held",
            lane="answer",
            topic="other",
            reply_to=message.id,
            findings=[
                {
                    "guard": "commitments",
                    "kind": "commitment",
                    "score": 0.9,
                    "reason": "promises a refund",
                    "label": "refund",
                }
            ],
        )
        repo.add_message(
            session,
            cid,
            Role.ASSISTANT,
            "A colleague will check this answer.",
            status="delivered",
            lane="answer",
            topic="other",
            reply_to=message.id,
        )
        return repo.open_task(session, cid, "held_draft", "promises a refund", held.id).id


# ---- unauthenticated and CSRF-less requests are refused --------------------------------------

GET_PAGES = [
    "/staff/inbox",
    "/staff/conversations/c-person",
    "/staff/review",
    "/staff/dashboard",
    "/staff/knowledge",
    "/staff/knowledge/edit",
    "/staff/users",
    "/staff/account",
    "/staff/tools/scam",
    "/staff/tools/redact",
    "/staff/redteam",
]
POST_ACTIONS = [
    "/staff/conversations/c-person/reveal",
    "/staff/conversations/c-person/reply",
    "/staff/conversations/c-person/close",
    "/staff/tasks/1/approve",
    "/staff/tasks/1/edit",
    "/staff/tasks/1/reject",
    "/staff/tasks/1/assign",
    "/staff/tasks/1/close",
    "/staff/review/1",
    "/staff/knowledge/save",
    "/staff/knowledge/refresh",
    "/staff/users",
    "/staff/users/kari/disable",
    "/staff/users/kari/reset-password",
    "/staff/account/password",
    "/staff/logout",
]


@pytest.mark.parametrize("path", GET_PAGES)
def test_unauthenticated_pages_redirect_to_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login?next=%2Fstaff%2F")


@pytest.mark.parametrize("path", POST_ACTIONS)
def test_unauthenticated_actions_are_refused(client: TestClient, light: LightDesk, path: str) -> None:
    seed_handoff(light)
    response = client.post(path, data={"text": "hi", "csrf_token": "x"}, follow_redirects=False)
    assert response.status_code == 401
    with light.db.session() as session:
        assert session.execute(select(Message).where(Message.role == "staff")).first() is None


@pytest.mark.parametrize("path", POST_ACTIONS)
def test_posts_without_csrf_token_are_refused(
    client: TestClient, light: LightDesk, owner_secret: str, path: str
) -> None:
    seed_handoff(light)
    as_owner(client, owner_secret)
    for data in ({"text": "hi", "note": "n", "verdict": "correct"}, {"text": "hi", "csrf_token": "forged"}):
        response = client.post(path, data=data, follow_redirects=False)
        assert response.status_code == 403, (path, response.text)
        assert "expired" in response.text
    assert audit_events(light, "staff.reveal") == [] and audit_events(light, "staff.reply") == []
    assert client.get("/staff/inbox").status_code == 200  # still signed in


def test_login_form_needs_its_csrf_cookie(client: TestClient) -> None:
    response = client.post(
        "/staff/login", data={"username": "kari", "password": AGENT_PW, "csrf_token": "x"}, follow_redirects=False
    )
    assert response.status_code == 403 and SESSION_COOKIE not in response.cookies


# ---- sign-in, cookies, sessions ---------------------------------------------------------------


def test_login_sets_a_hardened_session_cookie_stored_hashed(client: TestClient, light: LightDesk) -> None:
    response = login(client, "kari", AGENT_PW)
    assert response.status_code == 303 and response.headers["location"] == "/staff/inbox"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/staff" in cookie
    assert "Secure" not in cookie  # plain http in this test
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 40
    with light.db.session() as session:
        stored = session.execute(select(StaffSession)).scalar_one()
        assert stored.token_hash == hash_token(token) and stored.token_hash != token
    assert [e.actor for e in audit_events(light, "staff.login")] == ["kari"]


def test_cookie_is_secure_over_https(light: LightDesk, owner_secret: str) -> None:
    client = TestClient(staff_app(light), base_url="https://testserver")
    response = login(client, "kari", AGENT_PW)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "Secure" in cookie
    page = client.get("/staff/inbox")
    assert page.status_code == 200 and "max-age" in page.headers["strict-transport-security"]


def test_owner_needs_the_totp_code(client: TestClient, owner_secret: str) -> None:
    response = login(client, "olga", OWNER_PW)
    assert response.status_code == 401 and "Wrong user name, password or authenticator code" in response.text
    code = pyotp.TOTP(owner_secret).now()
    assert login(client, "olga", OWNER_PW, code).status_code == 303
    # Found by a new-user walkthrough: signing in again with the same code was refused without a word why.
    client.cookies.clear()
    again = login(client, "olga", OWNER_PW, code)
    assert again.status_code == 401 and "works only once" in again.text


def test_lockout_through_the_web(client: TestClient, light: LightDesk) -> None:
    for _ in range(accounts.MAX_FAILURES):
        assert login(client, "kari", "wrong-password-x").status_code == 401
    response = login(client, "kari", AGENT_PW)
    assert response.status_code == 429 and "Too many failed sign-ins" in response.text
    assert int(response.headers["retry-after"]) > 0
    assert [e.actor for e in audit_events(light, "staff.lockout")] == ["kari"]


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/staff/../x", "/elsewhere", "/staff/login"]
)
def test_next_cannot_redirect_off_the_staff_app(client: TestClient, target: str) -> None:
    response = login(client, "kari", AGENT_PW, next_url=target)
    assert response.headers["location"] == "/staff/inbox"


def test_next_returns_to_the_page_asked_for(client: TestClient) -> None:
    assert login(client, "kari", AGENT_PW, next_url="/staff/review").headers["location"] == "/staff/review"


def test_logout_ends_the_session_server_side(client: TestClient, light: LightDesk) -> None:
    token = as_agent(client)
    cookie = client.cookies.get(SESSION_COOKIE)
    response = client.post("/staff/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    with light.db.session() as session:
        assert session.execute(select(StaffSession)).first() is None
    client.cookies.set(SESSION_COOKIE, cookie or "", path="/staff")  # replaying the old cookie does not work
    assert client.get("/staff/inbox", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("field", ["expires_at", "last_seen_at"])
def test_expired_or_idle_sessions_end(client: TestClient, light: LightDesk, field: str) -> None:
    as_agent(client)
    with light.db.session() as session:
        stored = session.execute(select(StaffSession)).scalar_one()
        setattr(stored, field, accounts.utcnow() - timedelta(hours=13 if field == "expires_at" else 3))
    assert client.get("/staff/inbox", follow_redirects=False).status_code == 303
    with light.db.session() as session:
        assert session.execute(select(StaffSession)).first() is None


def test_disabling_a_user_ends_their_session(client: TestClient, light: LightDesk) -> None:
    as_agent(client)
    with light.db.session() as session:
        accounts.set_disabled(session, accounts.require_user(session, "kari"), True)
    assert client.get("/staff/inbox", follow_redirects=False).status_code == 303


# ---- security headers, no inline script -------------------------------------------------------


def test_security_headers_and_no_inline_script_on_every_page(
    client: TestClient, light: LightDesk, owner_secret: str
) -> None:
    seed_handoff(light)
    seed_held(light)
    login_page = client.get("/staff/login")
    as_owner(client, owner_secret)
    pages = [login_page] + [client.get(p) for p in [*GET_PAGES, "/staff/conversations/c-refund"]]
    for page in pages:
        assert page.status_code == 200, page.url
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["cache-control"] == "no-store"
        html = page.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), page.url  # only external scripts
        assert not re.search(r"\son[a-z]+\s*=", html), page.url  # no inline event handlers
        assert " style=" not in html, page.url
    assert client.get("/staff/static/staff.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/staff/static/../routes.py").status_code == 404


# ---- roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/staff/dashboard", "/staff/knowledge", "/staff/knowledge/edit?name=faq.md", "/staff/users"]
)
def test_agent_cannot_open_owner_pages(client: TestClient, path: str) -> None:
    as_agent(client)
    response = client.get(path)
    assert response.status_code == 403 and "Only owners" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/staff/knowledge/save",
        "/staff/knowledge/refresh",
        "/staff/users",
        "/staff/users/olga/disable",
        "/staff/users/olga/reset-password",
    ],
)
def test_agent_cannot_do_owner_actions_even_with_a_valid_token(client: TestClient, light: LightDesk, path: str) -> None:
    token = as_agent(client)
    response = client.post(
        path,
        data={
            "csrf_token": token,
            "name": "x.md",
            "content": "---\naccess: public\n---\nx",
            "username": "eve",
            "role": "owner",
            "password": AGENT_PW,
            "password2": AGENT_PW,
        },
    )
    assert response.status_code == 403
    with light.db.session() as session:
        assert accounts.get_user(session, "eve") is None
        assert not accounts.require_user(session, "olga").disabled
    assert not (light.project.knowledge_dir / "x.md").exists()


def test_agent_nav_hides_owner_pages_and_owner_sees_them(
    client: TestClient, light: LightDesk, owner_secret: str
) -> None:
    as_agent(client)
    page = client.get("/staff/inbox").text
    assert "/staff/review" in page and "/staff/dashboard" not in page and "/staff/users" not in page
    other = TestClient(staff_app(light))
    as_owner(other, owner_secret)
    page = other.get("/staff/inbox").text
    assert "/staff/dashboard" in page and "/staff/knowledge" in page and "/staff/users" in page
    for path in ("/staff/dashboard", "/staff/knowledge", "/staff/users"):
        assert other.get(path).status_code == 200


# ---- inbox and conversation -------------------------------------------------------------------


def test_inbox_lists_queues_with_redacted_text(client: TestClient, light: LightDesk) -> None:
    seed_handoff(light)
    seed_held(light)
    as_agent(client)
    page = client.get("/staff/inbox").text
    assert "c-person" in page and "c-refund" in page
    assert "&lt;EMAIL_ADDRESS_1&gt;" in page and "ola@example.com" not in page
    held_only = client.get("/staff/inbox?kind=held_draft").text
    assert "c-refund" in held_only and "c-person" not in held_only
    assert "c-person" not in client.get("/staff/inbox?mine=1").text


def test_inbox_pages(client: TestClient, light: LightDesk) -> None:
    for i in range(60):
        seed_handoff(light, cid=f"c-{i:03d}")
    as_agent(client)
    first = client.get("/staff/inbox").text
    assert "Page 1 of 2 (60 items)" in first and "c-059" in first and "c-000" not in first
    assert "c-000" in client.get("/staff/inbox?page=2").text


def test_conversation_shows_findings_and_placeholders_not_originals(client: TestClient, light: LightDesk) -> None:
    seed_handoff(light)
    as_agent(client)
    page = client.get("/staff/conversations/c-person").text
    assert "asks for a person" in page and "router" in page
    assert "&lt;EMAIL_ADDRESS_1&gt;" in page and "ola@example.com" not in page
    assert "1 value replaced by placeholders" in page


def test_reveal_is_a_post_and_is_audited(client: TestClient, light: LightDesk) -> None:
    seed_handoff(light)
    token = as_agent(client)
    response = client.post("/staff/conversations/c-person/reveal", data={"csrf_token": token, "reason": "address"})
    assert response.status_code == 200
    assert "ola@example.com" in response.text and "I want a person, mail me at ola@example.com" in response.text
    assert response.headers["cache-control"] == "no-store"
    events = audit_events(light, "staff.reveal")
    assert len(events) == 1 and events[0].actor == "kari" and events[0].conversation_id == "c-person"
    data = json.loads(events[0].data)
    assert data["placeholders"] == ["<EMAIL_ADDRESS_1>"] and data["reason"] == "address"
    assert "ola@example.com" not in events[0].data  # the audit log names what was revealed, not the value
    assert "ola@example.com" not in client.get("/staff/conversations/c-person").text


def test_reply_as_a_person(client: TestClient, light: LightDesk) -> None:
    seed_handoff(light)
    token = as_agent(client)
    response = client.post(
        "/staff/conversations/c-person/reply",
        data={"csrf_token": token, "text": "Hi, Kari here. How can I help?"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].endswith("?done=replied")
    with light.db.session() as session:
        message = session.execute(select(Message).where(Message.role == "staff")).scalar_one()
        assert (message.text, message.author, message.status) == ("Hi, Kari here. How can I help?", "Kari", "delivered")
        conversation = session.get(Conversation, "c-person")
        assert conversation is not None and conversation.status == "human" and conversation.assigned_to == "kari"
    event = audit_events(light, "staff.reply")[0]
    assert event.actor == "kari" and json.loads(event.data)["message"] == message.id
    assert (
        client.post("/staff/conversations/c-person/reply", data={"csrf_token": token, "text": "  "}).status_code == 400
    )
    assert client.post("/staff/conversations/nope/reply", data={"csrf_token": token, "text": "x"}).status_code == 404


def test_approve_a_held_draft(client: TestClient, light: LightDesk) -> None:
    task_id = seed_held(light)
    token = as_agent(client)
    page = client.get("/staff/conversations/c-refund").text
    assert "Held draft" in page and "promises a refund" in page
    response = client.post(f"/staff/tasks/{task_id}/approve", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    with light.db.session() as session:
        draft = session.execute(select(Message).where(Message.status == "approved")).scalar_one()
        sent = session.execute(select(Message).where(Message.reply_to == draft.id)).scalar_one()
        assert (sent.text, sent.status, sent.role) == (draft.text, "delivered", "assistant")
        assert sent.id > draft.id  # a new row, so a widget polling after its last id receives it
        task = session.get(Task, task_id)
        assert task is not None and task.status == "done" and task.data["resolution"] == "approved"
    assert json.loads(audit_events(light, "staff.approve")[0].data)["delivered"] == sent.id
    again = client.post(f"/staff/tasks/{task_id}/approve", data={"csrf_token": token})
    assert again.status_code == 409 and "already closed" in again.text


def test_an_approved_draft_reaches_the_customer_without_placeholders(client: TestClient, light: LightDesk) -> None:
    """A model's held draft may greet "<PERSON_1>"; approved, the customer reads plain words (review finding)."""
    task_id = seed_held(light, draft="Hi <PERSON_1>, we will refund you and write to <EMAIL_1>.")
    token = as_agent(client)
    client.post(f"/staff/tasks/{task_id}/approve", data={"csrf_token": token}, follow_redirects=False)
    with light.db.session() as session:
        sent = session.execute(
            select(Message).where(Message.status == "delivered", Message.role == "assistant")
        ).scalars()
        assert [m.text for m in sent if "refund" in m.text] == [
            "Hi, we will refund you and write to your email address."
        ]


def test_edit_and_send_a_held_draft(client: TestClient, light: LightDesk) -> None:
    task_id = seed_held(light)
    token = as_agent(client)
    edited = "We have received your refund request; a colleague will confirm the amount by email."
    assert (
        client.post(
            f"/staff/tasks/{task_id}/edit", data={"csrf_token": token, "text": edited}, follow_redirects=False
        ).status_code
        == 303
    )
    with light.db.session() as session:
        sent = session.execute(select(Message).where(Message.text == edited)).scalar_one()
        assert (sent.role, sent.author, sent.status) == ("staff", "Kari", "delivered")
        assert session.execute(select(Message).where(Message.status == "edited")).scalar_one().id == sent.reply_to
    event = json.loads(audit_events(light, "staff.edit")[0].data)
    assert event["changed"] is True and event["delivered"] == sent.id


def test_reject_a_held_draft_needs_a_note(client: TestClient, light: LightDesk) -> None:
    task_id = seed_held(light)
    token = as_agent(client)
    assert client.post(f"/staff/tasks/{task_id}/reject", data={"csrf_token": token, "note": ""}).status_code == 400
    assert (
        client.post(
            f"/staff/tasks/{task_id}/reject",
            data={"csrf_token": token, "note": "no refund promised"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    with light.db.session() as session:
        assert session.execute(select(Message).where(Message.status == "rejected")).scalar_one()
        assert (
            session.execute(
                select(Message).where(Message.status == "delivered", Message.text.like("We will refund%"))
            ).first()
            is None
        )
        # Found by a bug hunt: the customer was told a person would reply, yet the conversation left the inbox.
        handoff = session.execute(select(Task).where(Task.kind == "handoff", Task.status == "open")).scalar_one()
        assert "no refund promised" in handoff.summary
    assert "no refund promised" in client.get("/staff/inbox").text
    assert json.loads(audit_events(light, "staff.reject")[0].data)["note"] == "no refund promised"


def test_assign_and_close(client: TestClient, light: LightDesk) -> None:
    handoff = seed_handoff(light)
    held = seed_held(light)
    token = as_agent(client)
    assert (
        client.post(f"/staff/tasks/{handoff}/assign", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert "c-person" in client.get("/staff/inbox?mine=1").text
    refused = client.post(f"/staff/tasks/{held}/close", data={"csrf_token": token})
    assert refused.status_code == 409 and "held draft" in refused.text
    assert (
        client.post(f"/staff/tasks/{handoff}/close", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert (
        client.post(
            "/staff/conversations/c-refund/close", data={"csrf_token": token}, follow_redirects=False
        ).status_code
        == 303
    )
    with light.db.session() as session:
        assert session.execute(select(Task).where(Task.status == "open")).first() is None
        assert session.execute(select(Message).where(Message.status == "held")).first() is None
        refund = session.get(Conversation, "c-refund")
        assert refund is not None and refund.status == "closed"
    assert [e.actor for e in audit_events(light, "staff.assign")] == ["kari"]
    assert len(audit_events(light, "staff.close")) == 2


def test_every_staff_action_keeps_the_audit_chain_valid(client: TestClient, light: LightDesk) -> None:
    from safedesk import audit

    seed_handoff(light)
    held = seed_held(light)
    token = as_agent(client)
    client.post("/staff/conversations/c-person/reveal", data={"csrf_token": token})
    client.post("/staff/conversations/c-person/reply", data={"csrf_token": token, "text": "Hello"})
    client.post(f"/staff/tasks/{held}/approve", data={"csrf_token": token})
    with light.db.session() as session:
        report = audit.verify(session)
    assert report.ok and report.events >= 4


# ---- knowledge (owners) -----------------------------------------------------------------------

PAGE = "---\ntitle: Gift cards\naccess: public\n---\n\n# Gift cards\n\nGift cards are valid for 3 years.\n"


def test_owner_creates_edits_and_reingests_a_page(client: TestClient, light: LightDesk, owner_secret: str) -> None:
    token = as_owner(client, owner_secret)
    response = client.post(
        "/staff/knowledge/save",
        data={"csrf_token": token, "name": "gift-cards.md", "content": PAGE},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert (light.project.knowledge_dir / "gift-cards.md").read_text() == PAGE
    assert any(c.source == "gift-cards.md" and c.is_public for c in light.knowledge.chunks)
    listing = client.get("/staff/knowledge").text
    assert "gift-cards.md" in listing and "public" in listing
    assert "3 years" in client.get("/staff/knowledge/edit?name=gift-cards.md").text
    client.post(
        "/staff/knowledge/save",
        data={"csrf_token": token, "name": "gift-cards.md", "content": PAGE.replace("3 years", "5 years")},
    )
    assert any("5 years" in c.text for c in light.knowledge.chunks)
    events = audit_events(light, "staff.knowledge_save")
    assert [json.loads(e.data)["created"] for e in events] == [True, False] and events[0].actor == "olga"


def test_upload_a_markdown_file(client: TestClient, light: LightDesk, owner_secret: str) -> None:
    token = as_owner(client, owner_secret)
    response = client.post(
        "/staff/knowledge/upload",
        data={"csrf_token": token},
        files={"file": ("gift-cards.md", PAGE.encode(), "text/markdown")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert (light.project.knowledge_dir / "gift-cards.md").exists()
    no_token = client.post("/staff/knowledge/upload", files={"file": ("x.md", PAGE.encode(), "text/markdown")})
    assert no_token.status_code == 403 and not (light.project.knowledge_dir / "x.md").exists()


def test_a_new_page_or_upload_never_silently_replaces_a_file(
    client: TestClient, light: LightDesk, owner_secret: str
) -> None:
    """Found by a bug hunt: "New page" or an upload named like an existing file overwrote it."""
    token = as_owner(client, owner_secret)
    target = light.project.knowledge_dir / "gift-cards.md"
    client.post("/staff/knowledge/save", data={"csrf_token": token, "name": "gift-cards.md", "content": PAGE})
    other = PAGE.replace("3 years", "1 week")
    new_page = client.post(
        "/staff/knowledge/save", data={"csrf_token": token, "name": "gift-cards.md", "content": other, "new": "1"}
    )
    assert new_page.status_code == 400 and "already exists" in new_page.text and "3 years" in target.read_text()
    upload = client.post("/staff/knowledge/upload", data={"csrf_token": token},
                         files={"file": ("gift-cards.md", other.encode(), "text/markdown")})  # fmt: skip
    assert upload.status_code == 400 and "already exists" in upload.text and "3 years" in target.read_text()
    replaced = client.post(
        "/staff/knowledge/upload",
        data={"csrf_token": token, "replace": "1"},
        files={"file": ("gift-cards.md", other.encode(), "text/markdown")},
        follow_redirects=False,
    )
    assert replaced.status_code == 303 and "1 week" in target.read_text()


@pytest.mark.parametrize(
    "name",
    [
        "../escape.md",
        "../../etc/passwd",
        "sub/dir.md",
        ".hidden.md",
        "notes.txt",
        "page.md/",
        "/abs.md",
        "a b.md",
        "x" * 90 + ".md",
        "",
        "..md",
        "página.md",
    ],
)
def test_unsafe_file_names_are_refused(client: TestClient, light: LightDesk, owner_secret: str, name: str) -> None:
    token = as_owner(client, owner_secret)
    before = sorted(p.name for p in light.project.root.rglob("*"))
    response = client.post("/staff/knowledge/save", data={"csrf_token": token, "name": name, "content": PAGE})
    assert response.status_code == 400 and "Refused file name" in response.text
    if name:  # an empty "save as" name means: use the uploaded file's own name
        upload = client.post(
            "/staff/knowledge/upload",
            data={"csrf_token": token, "name": name},
            files={"file": ("ok.md", PAGE.encode(), "text/markdown")},
        )
        assert upload.status_code == 400
        by_filename = client.post(
            "/staff/knowledge/upload",
            data={"csrf_token": token},
            files={"file": (name, PAGE.encode(), "text/markdown")},
        )
        assert by_filename.status_code == 400
    assert sorted(p.name for p in light.project.root.rglob("*")) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("---\naccess: secret\n---\n# X\ntext\n", "invalid access label"),
        ("---\ntitle: [broken\n---\n# X\ntext\n", "broken front matter"),
        ("---\ntitle: X\naccess: public\n# no closing line\n", "no closing"),
        ("---\n- a list\n---\n# X\n", "must be a mapping"),
        ("---\ntitle: X\naccess: public\n---\n\n", "no text"),
        # Only warned about, then saved: the page stayed internal although its owner meant `access: public`.
        ("---\ntitle: X\nacess: public\n---\n# X\ntext\n", "unknown front matter key &#39;acess&#39;"),
    ],
)
def test_bad_front_matter_is_refused(
    client: TestClient, light: LightDesk, owner_secret: str, content: str, message: str
) -> None:
    token = as_owner(client, owner_secret)
    response = client.post("/staff/knowledge/save", data={"csrf_token": token, "name": "bad.md", "content": content})
    assert response.status_code == 400 and message in response.text
    assert not (light.project.knowledge_dir / "bad.md").exists()


def test_missing_access_label_warns_that_the_page_is_internal(
    client: TestClient, light: LightDesk, owner_secret: str
) -> None:
    token = as_owner(client, owner_secret)
    response = client.post(
        "/staff/knowledge/save",
        data={"csrf_token": token, "name": "notes.md", "content": "# Notes\n\nInternal notes.\n"},
    )
    assert response.status_code == 200 and "INTERNAL" in response.text
    assert any(c.source == "notes.md" and not c.is_public for c in light.knowledge.chunks)


# ---- users (owners) ---------------------------------------------------------------------------


def test_owner_adds_an_agent_and_sees_the_totp_secret_once(
    client: TestClient, light: LightDesk, owner_secret: str
) -> None:
    token = as_owner(client, owner_secret)
    form = {
        "csrf_token": token,
        "username": "per",
        "display_name": "Per",
        "role": "agent",
        "password": "vinter-ski-telt-Bergen-7",
        "password2": "vinter-ski-telt-Bergen-7",
        "totp": "1",
    }
    response = client.post("/staff/users", data=form)
    assert response.status_code == 200 and "otpauth://totp/" in response.text
    assert "otpauth://" not in client.get("/staff/users").text
    weak = client.post(
        "/staff/users", data={**form, "username": "eva", "password": "password1234", "password2": "password1234"}
    )
    assert weak.status_code == 400 and "commonly breached" in weak.text
    assert [json.loads(e.data)["user"] for e in audit_events(light, "staff.user_add")] == ["per"]


def test_owner_disables_an_agent_who_is_signed_out(client: TestClient, light: LightDesk, owner_secret: str) -> None:
    agent = TestClient(staff_app(light))
    as_agent(agent)
    token = as_owner(client, owner_secret)
    assert (
        client.post("/staff/users/kari/disable", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    )
    assert agent.get("/staff/inbox", follow_redirects=False).status_code == 303
    own = client.post("/staff/users/olga/disable", data={"csrf_token": token})
    assert own.status_code == 400


def test_change_own_password(client: TestClient, light: LightDesk) -> None:
    token = as_agent(client)
    wrong = client.post(
        "/staff/account/password",
        data={"csrf_token": token, "current": "nope", "password": OWNER_PW, "password2": OWNER_PW},
    )
    assert wrong.status_code == 400 and "current password is wrong" in wrong.text
    ok = client.post(
        "/staff/account/password",
        data={"csrf_token": token, "current": AGENT_PW, "password": OWNER_PW, "password2": OWNER_PW},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert client.get("/staff/inbox").status_code == 200  # this browser got a fresh session
    assert login(TestClient(staff_app(light)), "kari", OWNER_PW).status_code == 303


def test_wrong_current_passwords_are_audited_and_the_lockout_too(client: TestClient, light: LightDesk) -> None:
    """Found by reviews: guesses on the account page were neither limited nor audited, and the lockout they
    caused was not written to the audit log."""
    token = as_agent(client)
    for i in range(5):
        response = client.post(
            "/staff/account/password",
            data={"csrf_token": token, "current": f"guess-{i}", "password": OWNER_PW, "password2": OWNER_PW},
        )
        assert response.status_code == 400
    assert "too many tries" in response.text
    assert len(audit_events(light, "staff.password_check_failed")) == 5
    assert [e.actor for e in audit_events(light, "staff.lockout")] == ["kari"]


# ---- review and dashboard ---------------------------------------------------------------------


def seed_answers(light: LightDesk, n: int) -> None:
    with light.db.session() as session:
        for i in range(n):
            cid = f"r-{i}"
            question, _ = repo.record_inbound(session, cid, light.vault.encrypt("When do you open?"), None, "web")
            question.text, question.status, question.lane, question.topic = (
                "When do you open?",
                "processed",
                "answer",
                "general_info",
            )
            repo.add_message(
                session,
                cid,
                Role.ASSISTANT,
                "We open at 09:00.",
                status="delivered",
                lane="answer",
                topic="general_info",
                reply_to=question.id,
                sources=["Opening hours"],
            )
            conversation = session.get(Conversation, cid)
            assert conversation is not None
            conversation.last_lane = "answer"


def test_review_sampling_is_deterministic_and_near_the_rate() -> None:
    from safedesk.staff.review import is_sampled, sample_fraction

    ids = [f"conv-{i}" for i in range(20_000)]
    share = sum(is_sampled(c, 0.1) for c in ids) / len(ids)
    assert 0.09 < share < 0.11
    assert [is_sampled(c, 0.1) for c in ids[:500]] == [is_sampled(c, 0.1) for c in ids[:500]]
    assert all(is_sampled(c, 0.2) for c in ids if is_sampled(c, 0.1))  # raising the rate only adds
    assert not any(is_sampled(c, 0) for c in ids[:100]) and all(is_sampled(c, 1) for c in ids[:100])
    assert sample_fraction("abc") == sample_fraction("abc")


def test_review_queue_and_verdicts(client: TestClient, light: LightDesk) -> None:
    from safedesk.staff.review import is_sampled

    seed_answers(light, 40)
    expected = {f"r-{i}" for i in range(40) if is_sampled(f"r-{i}", 0.5)}
    token = as_agent(client)
    page = client.get("/staff/review").text
    with light.db.session() as session:
        items = list(session.execute(select(ReviewItem)).scalars())
    assert {i.conversation_id for i in items} == expected and len(items) == len(expected)
    assert "We open at 09:00." in page
    client.get("/staff/review")  # a second scan adds nothing
    with light.db.session() as session:
        assert len(list(session.execute(select(ReviewItem)).scalars())) == len(expected)
    first, second = items[0].id, items[1].id
    assert (
        client.post(
            f"/staff/review/{first}", data={"csrf_token": token, "verdict": "incorrect", "note": ""}
        ).status_code
        == 400
    )
    assert client.post(f"/staff/review/{first}", data={"csrf_token": token, "verdict": "maybe"}).status_code == 400
    for item, verdict, note in ((first, "incorrect", "we open at 10"), (second, "correct", "")):
        assert (
            client.post(
                f"/staff/review/{item}",
                data={"csrf_token": token, "verdict": verdict, "note": note},
                follow_redirects=False,
            ).status_code
            == 303
        )
    done = client.get("/staff/review?show=done").text
    assert "we open at 10" in done and "accuracy 50%" in done
    events = audit_events(light, "staff.review")
    assert [json.loads(e.data)["verdict"] for e in events] == ["incorrect", "correct"]


def test_review_shows_the_customer_question_for_an_approved_draft_and_groups_answers_without_the_disclosure(
    light: LightDesk,
) -> None:
    """Found by a bug hunt: an approved held draft showed the draft itself as the customer's question, and
    the same wrong answer was counted twice, with and without the AI disclosure a first reply starts with."""
    from safedesk.staff import review

    disclosure = "I'm the AI assistant of the shop."
    with light.db.session() as session:
        question, _ = repo.record_inbound(session, "c-held", light.vault.encrypt("How long is delivery?"), None, "web")
        question.text, question.status, question.lane = "How long is delivery?", "processed", "answer"
        draft = repo.add_message(
            session, "c-held", Role.ASSISTANT, "Two days.", status="approved", lane="answer", reply_to=question.id
        )
        answers = [(draft.id, "c-held", f"{disclosure}\n\nTwo days.")]
        for cid in ("c-a", "c-b"):
            q, _ = repo.record_inbound(session, cid, light.vault.encrypt("Delivery?"), None, "web")
            q.text, q.status, q.lane = "Delivery?", "processed", "answer"
            answers.append((q.id, cid, f"{disclosure}\n\nTwo days." if cid == "c-a" else "Two days."))
        for reply_to, cid, text in answers:
            repo.add_message(
                session, cid, Role.ASSISTANT, text, status="delivered", lane="answer", reply_to=reply_to, sources=["D"]
            )
        review.sync_review_queue(session, 1.0)
        views = review.list_reviews(session)
        assert [v.question.text if v.question else None for v in views] == [
            "How long is delivery?",
            "Delivery?",
            "Delivery?",
        ]
        for view in views:
            view.item.status, view.item.verdict = "done", "incorrect"
        session.flush()
        recurring = review.recurring_incorrect(session, disclosure=disclosure)
    assert [(r.text, r.count) for r in recurring] == [("Two days.", 3)]


def test_dashboard_draws_svg_charts_from_the_data(client: TestClient, light: LightDesk, owner_secret: str) -> None:
    seed_answers(light, 6)
    seed_handoff(light)
    seed_held(light)
    token = as_owner(client, owner_secret)
    client.get("/staff/review")
    with light.db.session() as session:
        item = session.execute(select(ReviewItem)).scalars().first()
    assert item is not None
    client.post(f"/staff/review/{item.id}", data={"csrf_token": token, "verdict": "unsafe", "note": "wrong hours"})
    page = client.get("/staff/dashboard")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") == 4 and "cdn" not in html.lower()
    assert "Conversations per day" in html
    assert "Answered by AI: 7 (88%)" in html  # 6 answers + the notice sent while a draft is held, of 8
    assert "Handed to a person: 1 (12%)" in html
    assert "Human request: 1" in html  # topic that reached a person
    assert "wrong hours" in html and "We open at 09:00." in html  # recurring incorrect answers
    assert client.get("/staff/dashboard?days=7").status_code == 200


def test_a_reply_sent_after_the_session_ended_is_given_back_to_copy(client: TestClient, light: LightDesk) -> None:
    """Found by a bug hunt in the browser: a reply typed while the session timed out was lost for good, and
    signing in led to the inbox instead of back to the conversation."""
    seed_handoff(light)
    token = as_agent(client)
    page = "/staff/conversations/c-person"
    with light.db.session() as session:
        for stored in session.execute(select(StaffSession)).scalars():
            session.delete(stored)  # the idle limit ended the session while the reply was being typed
    typed = "Hi Ola, <your parcel> left our warehouse today & should arrive Friday."
    response = client.post(
        page + "/reply",
        data={"csrf_token": token, "text": typed},
        headers={"referer": "http://testserver" + page},
    )
    assert response.status_code == 401
    assert html.escape(typed, quote=False) in response.text and "<your parcel>" not in response.text
    assert 'href="/staff/login?next=%2Fstaff%2Fconversations%2Fc-person"' in response.text
    with light.db.session() as session:
        assert session.execute(select(Message).where(Message.role == "staff")).first() is None
    elsewhere = client.post(
        page + "/reply",
        data={"csrf_token": token, "text": typed},
        headers={"origin": "https://evil.example", "referer": "https://evil.example/x"},
    )
    assert elsewhere.status_code == 401 and "left our warehouse" not in elsewhere.text  # not another site's words


def test_fields_with_only_a_placeholder_have_an_accessible_name(client: TestClient, light: LightDesk) -> None:
    """Found by a bug hunt in the browser: the reveal reason and the review note had only a placeholder."""
    seed_handoff(light)
    seed_answers(light, 40)  # about half are sampled for review
    as_agent(client)
    assert 'aria-label="Reason for revealing (recorded)"' in client.get("/staff/conversations/c-person").text
    assert 'aria-label="Review note' in client.get("/staff/review").text


def test_signing_in_again_replaces_the_previous_session(client: TestClient, light: LightDesk) -> None:
    as_agent(client)
    first = client.cookies.get(SESSION_COOKIE)
    client.cookies.set(LOGIN_CSRF_COOKIE, "form-open-in-another-tab", path="/staff")
    response = client.post(
        "/staff/login",
        data={"username": "kari", "password": AGENT_PW, "csrf_token": "form-open-in-another-tab"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.cookies.get(SESSION_COOKIE) != first
    with light.db.session() as session:
        hashes = [s.token_hash for s in session.execute(select(StaffSession)).scalars()]
    assert hashes == [hash_token(client.cookies.get(SESSION_COOKIE) or "")]


def test_reveal_cannot_be_done_with_a_get(client: TestClient, light: LightDesk) -> None:
    seed_handoff(light)
    as_agent(client)
    assert client.get("/staff/conversations/c-person/reveal").status_code in (404, 405)
    assert audit_events(light, "staff.reveal") == []


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/staff/tasks/99999999999999999999999/close", {}),
        ("/staff/tasks/99999999999999999999999/edit", {"text": "x"}),
        ("/staff/tasks/99999999999999999999999/approve", {}),
        ("/staff/review/99999999999999999999999", {"verdict": "correct"}),
    ],
)
def test_ids_beyond_any_row_are_not_found_not_a_server_error(client: TestClient, path: str, data: dict) -> None:
    token = as_agent(client)
    response = client.post(path, data={"csrf_token": token, **data})
    assert response.status_code == 404, response.text


# ---- audit log page --------------------------------------------------------------------------------


def test_audit_log_page_is_for_owners_and_shows_the_newest_events_escaped(
    client: TestClient, light: LightDesk, owner_secret: str
) -> None:
    from safedesk import audit

    with light.db.session() as session:
        audit.append(session, "turn.decided", conversation_id="c-<b>x</b>", data={"lane": "<script>x</script>"})
    as_agent(client)
    assert client.get("/staff/audit").status_code == 403
    assert 'href="/staff/audit"' not in client.get("/staff/inbox").text
    owner = TestClient(staff_app(light))
    as_owner(owner, owner_secret)
    page = owner.get("/staff/audit")
    assert page.status_code == 200 and 'href="/staff/audit"' in page.text
    assert "turn.decided" in page.text and "staff.login" in page.text
    assert "<script>x</script>" not in page.text and "&lt;script&gt;" in page.text
    only_staff = owner.get("/staff/audit", params={"kind": "staff."}).text
    assert "staff.login" in only_staff and "turn.decided" not in only_staff


def test_audit_log_page_checks_the_chain_and_names_a_tampered_event(
    client: TestClient, light: LightDesk, owner_secret: str
) -> None:
    token = as_owner(client, owner_secret)
    assert client.post("/staff/audit/check", data={}).status_code == 403  # a POST with the form's token only
    assert "chain intact" in client.post("/staff/audit/check", data={"csrf_token": token}).text
    assert "staff.audit_checked" in client.get("/staff/audit").text
    with light.db.session() as session:
        event = session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().first()
        assert event is not None
        event.data = '{"edited": true}'
        first_id = event.id
    page = client.post("/staff/audit/check", data={"csrf_token": token}).text
    assert "chain broken" in page and f"at event {first_id}" in page
    assert client.get("/staff/audit", params={"before": str(2**70)}).status_code == 200  # not a 500


def test_a_knowledge_file_that_breaks_loading_is_shown_and_re_ingest_retries(
    client: TestClient, light: LightDesk, owner_secret: str
) -> None:
    """Found by a bug hunt: a broken file dropped into knowledge/ stopped every answer, while the page showed
    no error and "Re-ingest now" said nothing had changed."""
    from safedesk.errors import ConfigError

    token = as_owner(client, owner_secret)
    broken = light.project.knowledge_dir / "holiday.md"
    broken.write_text("---\ntitle: Holiday\naccess: pubic\n---\n\nClosed on 24 December.\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        light.knowledge.refresh()  # what the next customer turn does
    page = client.get("/staff/knowledge").text
    assert "does not load" in page and "holiday.md" in page
    again = client.post("/staff/knowledge/refresh", data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 400 and "holiday.md" in again.text
    broken.write_text(broken.read_text(encoding="utf-8").replace("pubic", "public"), encoding="utf-8")
    fixed = client.post("/staff/knowledge/refresh", data={"csrf_token": token}, follow_redirects=False)
    assert fixed.status_code == 303 and "done=refreshed" in fixed.headers["location"]
    assert "does not load" not in client.get("/staff/knowledge").text


def test_a_knowledge_file_with_only_a_comment_is_refused(
    client: TestClient, light: LightDesk, owner_secret: str
) -> None:
    token = as_owner(client, owner_secret)
    only_comment = "---\naccess: public\n---\n\n<!-- only a comment -->\n"
    response = client.post("/staff/knowledge/upload", data={"csrf_token": token},
                           files={"file": ("fm-only.md", only_comment.encode(), "text/markdown")})  # fmt: skip
    assert response.status_code == 400 and "no text to answer from" in response.text
    assert not (light.project.knowledge_dir / "fm-only.md").exists()


def test_a_new_file_is_claimed_atomically_and_leaves_no_drafts(tmp_path: Path) -> None:
    """Two new pages of one name saved at once: the name check and the write are one step (a hard link)."""
    from safedesk.staff import knowledge

    first = knowledge.validate_markdown("gift-cards.md", PAGE)
    second = knowledge.validate_markdown("gift-cards.md", PAGE.replace("3 years", "1 week"))
    knowledge.write_file(tmp_path, "gift-cards.md", first, replace=False)
    with pytest.raises(knowledge.KnowledgeFileError, match="already exists"):
        knowledge.write_file(tmp_path, "gift-cards.md", second, replace=False)
    assert "3 years" in (tmp_path / "gift-cards.md").read_text() and sorted(p.name for p in tmp_path.iterdir()) == [
        "gift-cards.md"
    ]


def test_dashboard_warns_the_owner_when_one_time_codes_only_go_to_the_log(
    client: TestClient, light: LightDesk, owner_secret: str
) -> None:
    """A non-demo desk on the default `log` email transport: customers never get their codes."""
    from safedesk.config import Project

    as_owner(client, owner_secret)
    assert "outbox.log" in html.unescape(client.get("/staff/dashboard").text)
    light.project = Project(light.project.root, light.config.model_copy(update={"demo": True}))
    assert "outbox.log" not in html.unescape(client.get("/staff/dashboard").text)
