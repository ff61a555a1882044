"""The staff app's tool pages through FastAPI's TestClient: the scam second opinion, the redactor
(with its encrypted, user-bound, expiring mapping token) and the red team (owners only, on the demo)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safedesk.config import DeskConfig
from safedesk.redteam.probes import Category
from safedesk.staff import accounts, tools_routes
from safedesk.staff.harness import LightDesk, staff_app
from safedesk.storage.models import AuditEvent

pytestmark = pytest.mark.usefixtures("fast_argon2")  # cheap argon2: see conftest.py

OWNER_PW = "kayak-fjord-lantern-42"
AGENT_PW = "correct horse battery staple 9"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN = re.compile(r'name="token" value="([^"]+)"')

FRAUD = (
    "Hi, this is Martin from the accounts team. Our bank details have changed: please pay invoice 2231 "
    "to the new account below today, and keep this confidential until the audit is done."
)
PERSONAL = "Hello, my name is Ingrid Solberg. Please email me at ingrid.solberg@example.com or call +47 912 34 567."
ORIGINALS = ("Ingrid", "Solberg", "ingrid.solberg@example.com", "912 34 567")


def add_users(desk: Any) -> str:
    """An owner (olga, TOTP) and two agents (kari, per); returns the owner's TOTP secret."""
    with desk.db.session() as session:
        created = accounts.create_user(session, desk.vault, "olga", "owner", OWNER_PW, display_name="Olga")
        accounts.create_user(session, desk.vault, "kari", "agent", AGENT_PW, display_name="Kari", totp=False)
        accounts.create_user(session, desk.vault, "per", "agent", AGENT_PW, display_name="Per", totp=False)
    assert created.totp_secret
    return created.totp_secret


@pytest.fixture
def light(tmp_path: Path) -> Iterator[LightDesk]:
    desk = LightDesk.open(tmp_path / "shop")
    yield desk
    desk.close()


@pytest.fixture
def owner_secret(light: LightDesk) -> str:
    return add_users(light)


@pytest.fixture
def client(light: LightDesk, owner_secret: str) -> TestClient:
    return TestClient(staff_app(light))


def login(client: TestClient, username: str, password: str, code: str = "") -> Any:
    token = CSRF.search(client.get("/staff/login").text).group(1)
    return client.post(
        "/staff/login",
        data={"username": username, "password": password, "code": code, "csrf_token": token},
        follow_redirects=False,
    )


def csrf(client: TestClient) -> str:
    return CSRF.search(client.get("/staff/account").text).group(1)


def as_agent(client: TestClient, name: str = "kari") -> str:
    assert login(client, name, AGENT_PW).status_code == 303
    return csrf(client)


def as_owner(client: TestClient, secret: str) -> str:
    assert login(client, "olga", OWNER_PW, pyotp.TOTP(secret).now()).status_code == 303
    return csrf(client)


def events(desk: Any, kind: str) -> list[AuditEvent]:
    with desk.db.session() as session:
        return list(session.execute(select(AuditEvent).where(AuditEvent.kind == kind)).scalars())


def pasted(page: str) -> str:
    """The echoed text of the scam page (still HTML-escaped)."""
    match = re.search(r'<pre class="text pasted">(.*?)</pre>', page, re.S)
    assert match, page
    return match.group(1)


# ---- sign-in, CSRF, roles, headers -------------------------------------------------------------

PAGES = ["/staff/tools/scam", "/staff/tools/redact", "/staff/redteam"]
ACTIONS = ["/staff/tools/scam", "/staff/tools/redact", "/staff/tools/restore", "/staff/redteam"]


# Signed out, these pages redirect to the login page: tested with every staff page in test_staff_web.py.


@pytest.mark.parametrize("path", ACTIONS)
def test_actions_need_a_session(client: TestClient, light: LightDesk, path: str) -> None:
    response = client.post(path, data={"text": FRAUD, "csrf_token": "x"}, follow_redirects=False)
    assert response.status_code == 401 and "Please sign in" in response.text
    assert "Our bank details" not in response.text
    assert events(light, "staff.scam_check") == []


@pytest.mark.parametrize("path", ACTIONS)
def test_actions_need_the_csrf_token(client: TestClient, light: LightDesk, owner_secret: str, path: str) -> None:
    as_owner(client, owner_secret)
    for data in ({"text": FRAUD, "max_per_category": "1"}, {"text": FRAUD, "csrf_token": "forged"}):
        response = client.post(path, data=data, follow_redirects=False)
        assert response.status_code == 403, (path, response.text)
        assert "expired" in response.text and "Verdict" not in response.text
    assert events(light, "staff.scam_check") == [] and events(light, "staff.redteam") == []


def test_pages_have_the_staff_security_headers_and_no_inline_script(client: TestClient, owner_secret: str) -> None:
    token = as_owner(client, owner_secret)
    pages = [client.get(p) for p in PAGES]
    pages.append(client.post("/staff/tools/scam", data={"text": FRAUD, "csrf_token": token}))
    pages.append(client.post("/staff/tools/redact", data={"text": PERSONAL, "csrf_token": token}))
    for page in pages:
        assert page.status_code == 200, page.url
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
        assert not re.search(r"\son[a-z]+\s*=", page.text) and " style=" not in page.text


def test_nav_links_red_team_only_for_owners(client: TestClient, light: LightDesk, owner_secret: str) -> None:
    as_agent(client)
    page = client.get("/staff/inbox").text
    assert 'href="/staff/tools/scam"' in page and 'href="/staff/tools/redact"' in page
    assert "/staff/redteam" not in page
    owner = TestClient(staff_app(light))
    as_owner(owner, owner_secret)
    assert 'href="/staff/redteam"' in owner.get("/staff/inbox").text


# ---- scam second opinion ------------------------------------------------------------------------


def test_bank_detail_change_is_dangerous_with_reasons(client: TestClient, light: LightDesk) -> None:
    token = as_agent(client)
    assert client.get("/staff/tools/scam").status_code == 200
    response = client.post("/staff/tools/scam", data={"text": FRAUD, "csrf_token": token})
    assert response.status_code == 200
    assert 'class="tag scam-dangerous">dangerous<' in response.text
    reasons = re.search(r'<ul class="reasons">(.*?)</ul>', response.text, re.S)
    assert reasons and "bank or payment details have changed" in reasons.group(1)
    assert reasons.group(1).count("<li>") >= 2
    assert re.search(r"risk 0\.[7-9]\d of 1|risk 1\.00 of 1", response.text)
    [event] = events(light, "staff.scam_check")
    assert event.actor == "kari" and json.loads(event.data) == {"verdict": "dangerous", "chars": len(FRAUD)}


def test_plain_message_is_safe(client: TestClient) -> None:
    token = as_agent(client)
    response = client.post("/staff/tools/scam", data={"text": "see you at 5", "csrf_token": token})
    assert response.status_code == 200
    assert 'class="tag scam-safe">safe<' in response.text and "risk 0.00 of 1" in response.text
    assert '<ul class="reasons">' not in response.text


def test_pasted_text_is_escaped_and_links_are_not_clickable(client: TestClient) -> None:
    token = as_agent(client)
    text = (
        'Your parcel is held. <script>alert("x")</script> Pay the fee at '
        '<a href="https://evil.example/pay">https://posten.no</a> or https://dhl-parcel.top/fee'
    )
    page = client.post("/staff/tools/scam", data={"text": text, "csrf_token": token}).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
    assert 'href="https://evil.example' not in page and 'href="https://dhl' not in page
    assert "<a href" not in pasted(page)
    assert html.unescape(pasted(page)) == text  # echoed back exactly, as text


def test_scam_text_limits(client: TestClient, light: LightDesk) -> None:
    token = as_agent(client)
    too_long = "a" * (tools_routes.MAX_SCAM_CHARS + 1)
    response = client.post("/staff/tools/scam", data={"text": too_long, "csrf_token": token})
    assert response.status_code == 400 and "too long" in response.text and "at most 16,000" in response.text
    empty = client.post("/staff/tools/scam", data={"text": "  \r\n ", "csrf_token": token})
    assert empty.status_code == 400 and "empty" in empty.text
    assert events(light, "staff.scam_check") == []


def test_own_domains_come_from_the_business_config() -> None:
    config = DeskConfig.model_validate(
        {
            "business": {"name": "Nordlys", "contact_email": "kundeservice@Nordlys-Outdoor.no"},
            "verification": {"smtp": {"sender": "no-reply@localhost"}},
        }
    )
    assert tools_routes.own_domains(config) == ("nordlys-outdoor.no",)


# ---- redactor ----------------------------------------------------------------------------------


def redact(client: TestClient, token: str, text: str = PERSONAL) -> tuple[Any, str]:
    response = client.post("/staff/tools/redact", data={"text": text, "csrf_token": token})
    match = TOKEN.search(response.text)
    assert response.status_code == 200 and match, response.text
    return response, match.group(1)


ANSWER = "Dear <PERSON_1>, we will call you on <PHONE_1> and confirm to <EMAIL_1>."


def test_redact_hides_the_originals_and_restore_puts_them_back(client: TestClient, light: LightDesk) -> None:
    token = as_agent(client)
    response, key = redact(client, token)
    raw = response.text
    for placeholder in ("&lt;PERSON_1&gt;", "&lt;EMAIL_1&gt;", "&lt;PHONE_1&gt;"):
        assert placeholder in raw
    for original in ORIGINALS:  # nowhere in the page, hidden key included
        assert original not in raw and original.lower() not in raw.lower()
        assert html.escape(original) not in raw
    assert "1 name" in raw and "1 email address" in raw and "1 phone number" in raw

    restored = client.post("/staff/tools/restore", data={"answer": ANSWER, "token": key, "csrf_token": token})
    assert restored.status_code == 200
    area = re.search(r'<textarea id="restored"[^>]*>(.*?)</textarea>', restored.text, re.S)
    assert area is not None
    assert html.unescape(area.group(1)) == (
        "Dear Ingrid Solberg, we will call you on +47 912 34 567 and confirm to ingrid.solberg@example.com."
    )
    assert "3 placeholders filled in" in restored.text

    [redacted_event] = events(light, "staff.redact")
    [restore_event] = events(light, "staff.restore")
    for event in (redacted_event, restore_event):
        assert event.actor == "kari" and not any(o in event.data for o in ORIGINALS)
    assert json.loads(restore_event.data)["restored"] == 3


def test_redact_counts_in_plain_english(client: TestClient) -> None:
    """Found by a bug hunt: "2 email addresss"."""
    token = as_agent(client)
    response, _ = redact(client, token, "Write to ola@example.com or kari@example.com.")
    assert "2 email addresses" in response.text and "addresss" not in response.text


def tampered(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


def test_a_tampered_token_restores_nothing(client: TestClient, light: LightDesk) -> None:
    token = as_agent(client)
    _, key = redact(client, token)
    for bad in (tampered(key), key[:-1], "", "not-a-token", light.vault.encrypt("Ingrid Solberg")):
        response = client.post("/staff/tools/restore", data={"answer": ANSWER, "token": bad, "csrf_token": token})
        assert response.status_code == 400, bad
        assert "redaction key" in response.text
        assert not any(o in response.text for o in ORIGINALS)
        assert 'id="restored"' not in response.text
    assert events(light, "staff.restore") == []


def test_another_users_token_restores_nothing(client: TestClient, light: LightDesk, owner_secret: str) -> None:
    token = as_agent(client, "kari")
    _, key = redact(client, token)
    other = TestClient(staff_app(light))
    other_token = as_agent(other, "per")
    response = other.post("/staff/tools/restore", data={"answer": ANSWER, "token": key, "csrf_token": other_token})
    assert response.status_code == 400 and "another user" in response.text
    assert not any(o in response.text for o in ORIGINALS)
    owner = TestClient(staff_app(light))
    owner_token = as_owner(owner, owner_secret)  # an owner is not "anyone" either
    response = owner.post("/staff/tools/restore", data={"answer": ANSWER, "token": key, "csrf_token": owner_token})
    assert response.status_code == 400
    # ... while kari still can
    assert (
        client.post("/staff/tools/restore", data={"answer": ANSWER, "token": key, "csrf_token": token}).status_code
        == 200
    )


def test_an_expired_token_restores_nothing(
    client: TestClient, light: LightDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = as_agent(client)
    _, key = redact(client, token)
    made = tools_routes._now()
    ttl = tools_routes.REDACT_TOKEN_TTL.total_seconds()
    monkeypatch.setattr(tools_routes, "_now", lambda: made + ttl - 30)
    ok = client.post("/staff/tools/restore", data={"answer": ANSWER, "token": key, "csrf_token": token})
    assert ok.status_code == 200 and "Ingrid Solberg" in ok.text
    monkeypatch.setattr(tools_routes, "_now", lambda: made + ttl + 1)
    response = client.post("/staff/tools/restore", data={"answer": ANSWER, "token": key, "csrf_token": token})
    assert response.status_code == 400 and "expired" in response.text
    assert not any(o in response.text for o in ORIGINALS)


def test_redact_text_limits(client: TestClient) -> None:
    token = as_agent(client)
    too_long = "word " * (tools_routes.MAX_REDACT_CHARS // 5 + 1)
    response = client.post("/staff/tools/redact", data={"text": too_long, "csrf_token": token})
    assert response.status_code == 400 and "too long" in response.text and 'name="token"' not in response.text
    _, key = redact(client, token)
    empty = client.post("/staff/tools/restore", data={"answer": " ", "token": key, "csrf_token": token})
    assert empty.status_code == 400 and "empty" in empty.text


# ---- red team ------------------------------------------------------------------------------------


def test_agents_cannot_open_or_run_the_red_team(client: TestClient, light: LightDesk) -> None:
    token = as_agent(client)
    page = client.get("/staff/redteam")
    assert page.status_code == 403 and "Only owners" in page.text
    run = client.post("/staff/redteam", data={"csrf_token": token, "max_per_category": "1"})
    assert run.status_code == 403
    assert events(light, "staff.redteam") == []


def test_one_run_at_a_time(client: TestClient, light: LightDesk, owner_secret: str) -> None:
    token = as_owner(client, owner_secret)
    assert tools_routes._redteam_lock.acquire(blocking=False)
    try:
        response = client.post("/staff/redteam", data={"csrf_token": token, "max_per_category": "1"})
    finally:
        tools_routes._redteam_lock.release()
    assert response.status_code == 409 and "already going" in response.text
    assert events(light, "staff.redteam") == []


@pytest.mark.parametrize("limit", ["-1", "x", "1.5", "5000", "\u00b2"])
def test_bad_probe_limits_are_refused(client: TestClient, owner_secret: str, limit: str) -> None:
    token = as_owner(client, owner_secret)
    response = client.post("/staff/redteam", data={"csrf_token": token, "max_per_category": limit})
    assert response.status_code == 400 and "whole number" in response.text


def test_owner_runs_the_red_team_on_the_demo_desk(desk: Any) -> None:
    secret = add_users(desk)
    client = TestClient(staff_app(desk))
    token = as_owner(client, secret)
    page = client.get("/staff/redteam")
    assert page.status_code == 200 and 'name="max_per_category" value="5"' in page.text

    response = client.post("/staff/redteam", data={"csrf_token": token, "max_per_category": "5"})
    assert response.status_code == 200, response.text
    summary = re.search(r'<table class="redteam-summary">(.*?)</table>', response.text, re.S)
    assert summary is not None
    rows = re.findall(
        r"<tr[^>]*><td><code>(\w+)</code></td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>",
        summary.group(1),
    )
    assert [r[0] for r in rows] == [c.value for c in Category]
    for _name, probes, passed, failed, errors in rows:
        assert int(probes) > 0 and passed == probes and failed == "0" and errors == "0"
    assert "all probes passed" in response.text

    [event] = events(desk, "staff.redteam")
    data = json.loads(event.data)
    assert event.actor == "olga" and data["failed"] == 0 and data["errors"] == 0
    assert data["probes"] == sum(int(r[1]) for r in rows) and set(data["categories"]) == {c.value for c in Category}
    assert data["max_per_category"] == 5
    assert "Last run:" in client.get("/staff/redteam").text


def test_failures_are_shown_with_their_evidence_as_text(
    client: TestClient, light: LightDesk, owner_secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safedesk.redteam import runner
    from safedesk.redteam.judge import Evidence
    from safedesk.redteam.probes import FailureIf, Probe
    from safedesk.redteam.report import RedTeamReport
    from safedesk.redteam.results import Exchange, Outcome, ProbeResult

    probe = Probe(
        "inj-1", Category.INJECTION, "an injection in a <b>tag</b>", ("say <script>x()</script>",), FailureIf()
    )
    failed = ProbeResult(
        probe,
        Outcome.FAIL,
        (Evidence("marker", 1, "said the marker **M\u2022\u2022\u2022**", "... <img src=x onerror=alert(1)> ..."),),
        (Exchange("say <script>x()</script>", "OK: <img src=x onerror=alert(1)>", "answer", False),),
    )
    report = RedTeamReport("Test Shop", "in process", "2025-01-01T00:00:00+00:00", 1.0, tuple(Category), (failed,))
    seen: list[tuple[Any, int | None]] = []

    def fake_run(project_dir: Any, *, max_per_category: int | None = None, **_: Any) -> RedTeamReport:
        seen.append((project_dir, max_per_category))
        return report

    monkeypatch.setattr(runner, "run_redteam", fake_run)
    token = as_owner(client, owner_secret)
    response = client.post("/staff/redteam", data={"csrf_token": token, "max_per_category": "0"})
    assert response.status_code == 200
    assert seen == [(light.project.root, 0)]
    page = response.text
    assert "1 failed, 0 errors" in page and "inj-1" in page
    assert "<script>x()" not in page and "&lt;script&gt;x()" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "**M\u2022\u2022\u2022**" in page and "<b>tag</b>" not in page  # markdown and markup stay text
    [event] = events(light, "staff.redteam")
    assert json.loads(event.data)["categories"]["injection"] == {"probes": 1, "failed": 1, "errors": 0}
