"""The customer chat API, the shop page and the web hardening, through FastAPI's TestClient (httpx)
and, where the transport matters (chunked bodies), a real uvicorn server."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safedesk.domain import Role
from safedesk.storage import repository as repo
from safedesk.storage.models import Conversation, Message
from safedesk.web.app import STATIC_DIR, create_app
from safedesk.web.security import Rate, RateLimiter, RateLimits

QUESTION = "What are your opening hours?"
HANDOFF = "I'd like to talk to a person"
GENEROUS = RateLimits(
    conversations_per_ip=Rate(1000, 6000),
    messages_per_ip=Rate(1000, 6000),
    messages_per_conversation=Rate(1000, 6000),
    polls_per_ip=Rate(1000, 6000),
)


@pytest.fixture(scope="module")
def web_desk(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One desk for this module (conversations are per test, so tests stay independent)."""
    import shutil

    from safedesk.desk import Desk

    root = tmp_path_factory.mktemp("web") / "shop"
    shutil.copytree(demo_dir, root, ignore=shutil.ignore_patterns("*.db*"))
    desk = Desk.open(root)
    yield desk
    desk.close()


@pytest.fixture
def client(web_desk: Any) -> Iterator[TestClient]:
    with TestClient(create_app(web_desk, rate_limits=GENEROUS)) as test_client:
        yield test_client


def start(client: TestClient) -> str:
    response = client.post("/api/v1/conversations")
    assert response.status_code == 201, response.text
    return response.json()["id"]


def send(client: TestClient, cid: str, text: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
    body: dict[str, Any] = {"text": text}
    if key is not None:
        body["idempotency_key"] = key
    return client.post(f"/api/v1/conversations/{cid}/messages", json=body, **kwargs)


def add_staff_reply(desk: Any, cid: str, text: str, author: str = "Kari") -> int:
    with desk.db.session() as session:
        return repo.add_message(session, cid, Role.STAFF, text, status="delivered", author=author).id


# ---- the happy path -----------------------------------------------------------------------------


def test_conversation_gets_unguessable_id_and_disclosure(client: TestClient, web_desk: Any) -> None:
    first, second = client.post("/api/v1/conversations"), client.post("/api/v1/conversations")
    assert first.status_code == 201
    body = first.json()
    assert body["disclosure"] == web_desk.config.disclosure_text()
    assert "AI assistant" in body["disclosure"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,}", body["id"])  # secrets.token_urlsafe(16): 128 bits
    assert body["id"] != second.json()["id"]


def test_opening_hours_answer_with_disclosure_on_first_reply(client: TestClient, web_desk: Any) -> None:
    cid = start(client)
    response = send(client, cid, QUESTION)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert set(reply) == {
        "message_id",
        "reply_id",
        "reply",
        "lane",
        "topic",
        "held_for_review",
        "sources",
        "author",
        "from",
    }
    assert reply["from"] == "assistant" and reply["author"] is None
    assert reply["lane"] == "answer" and reply["held_for_review"] is False
    disclosure = web_desk.config.disclosure_text()
    assert reply["reply"].startswith(disclosure)
    answer = reply["reply"][len(disclosure) :]
    assert re.search(r"\b\d{1,2}[:.]\d{2}\b", answer), answer  # the hours themselves
    assert reply["reply_id"] > reply["message_id"]

    again = send(client, cid, QUESTION).json()  # the disclosure comes once, on the first reply
    assert disclosure not in again["reply"]


def test_handoff_request_goes_to_a_person(client: TestClient) -> None:
    cid = start(client)
    reply = send(client, cid, HANDOFF).json()
    assert reply["lane"] == "human"
    assert "team" in reply["reply"]


# ---- reading replies ------------------------------------------------------------------------------


def test_messages_are_assistant_and_staff_only(client: TestClient, web_desk: Any) -> None:
    cid = start(client)
    reply = send(client, cid, QUESTION).json()
    with web_desk.db.session() as session:  # a held draft is never shown to the customer
        repo.add_message(session, cid, Role.ASSISTANT, "held draft", status="held", reply_to=reply["message_id"])
    staff_id = add_staff_reply(web_desk, cid, "Hello, Kari here.")

    body = client.get(f"/api/v1/conversations/{cid}/messages").json()
    assert [(m["id"], m["from"], m["author"]) for m in body["messages"]] == [
        (reply["reply_id"], "assistant", None),
        (staff_id, "staff", "Kari"),
    ]
    assert body["messages"][0]["text"] == reply["reply"]
    assert body["last_id"] == staff_id
    assert QUESTION not in {m["text"] for m in body["messages"]}

    later = client.get(f"/api/v1/conversations/{cid}/messages", params={"after": reply["reply_id"]}).json()
    assert [m["id"] for m in later["messages"]] == [staff_id]
    empty = client.get(f"/api/v1/conversations/{cid}/messages", params={"after": staff_id}).json()
    assert empty == {"messages": [], "last_id": staff_id}


def test_long_poll_returns_a_staff_reply_within_two_seconds(client: TestClient, web_desk: Any) -> None:
    cid = start(client)
    timer = threading.Timer(0.6, add_staff_reply, (web_desk, cid, "A person here."))
    timer.start()
    started = time.monotonic()
    body = client.get(f"/api/v1/conversations/{cid}/messages", params={"after": 0, "wait": 10}).json()
    elapsed = time.monotonic() - started
    timer.join()
    assert [m["text"] for m in body["messages"]] == ["A person here."]
    assert elapsed < 2.0, f"staff reply took {elapsed:.2f} s"


def test_long_poll_times_out_empty(client: TestClient) -> None:
    cid = start(client)
    started = time.monotonic()
    body = client.get(f"/api/v1/conversations/{cid}/messages", params={"wait": 1}).json()
    assert body == {"messages": [], "last_id": 0}
    assert 0.9 <= time.monotonic() - started < 3


@pytest.mark.parametrize("params", [{"wait": 26}, {"wait": -1}, {"after": -1}, {"after": "x"}])
def test_poll_parameters_are_validated(client: TestClient, params: dict[str, Any]) -> None:
    cid = start(client)
    response = client.get(f"/api/v1/conversations/{cid}/messages", params=params)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)


# ---- idempotency -----------------------------------------------------------------------------------


def count_customer_messages(desk: Any, cid: str) -> int:
    with desk.db.session() as session:
        return session.scalar(
            select(func.count()).select_from(Message).where(Message.conversation_id == cid, Message.role == "customer")
        )


def test_same_idempotency_key_returns_the_same_reply(client: TestClient, web_desk: Any) -> None:
    cid = start(client)
    first = send(client, cid, QUESTION, key="key-1").json()
    second = send(client, cid, QUESTION, key="key-1").json()
    assert (second["message_id"], second["reply_id"], second["reply"]) == (
        first["message_id"],
        first["reply_id"],
        first["reply"],
    )
    assert count_customer_messages(web_desk, cid) == 1


def test_idempotency_key_header(client: TestClient, web_desk: Any) -> None:
    cid = start(client)
    first = send(client, cid, QUESTION, headers={"Idempotency-Key": "hdr-1"}).json()
    second = send(client, cid, QUESTION, headers={"Idempotency-Key": "hdr-1"}).json()
    assert first["reply_id"] == second["reply_id"]
    assert count_customer_messages(web_desk, cid) == 1
    clash = send(client, cid, QUESTION, key="a", headers={"Idempotency-Key": "b"})
    assert clash.status_code == 400


# ---- errors ------------------------------------------------------------------------------------------


def test_unknown_conversation_is_404_and_never_created(client: TestClient, web_desk: Any) -> None:
    guessed = "AAAAAAAAAAAAAAAAAAAAAA"
    assert send(client, guessed, QUESTION).status_code == 404
    assert client.get(f"/api/v1/conversations/{guessed}/messages").status_code == 404
    with web_desk.db.session() as session:
        assert session.get(Conversation, guessed) is None


def test_other_channels_conversations_are_not_reachable(client: TestClient, web_desk: Any) -> None:
    web_desk.pipeline.run("cli-conversation-1", QUESTION, channel="cli")
    assert client.get("/api/v1/conversations/cli-conversation-1/messages").status_code == 404
    assert send(client, "cli-conversation-1", QUESTION).status_code == 404


def test_malformed_json_is_400_with_a_readable_detail(client: TestClient) -> None:
    cid = start(client)
    response = client.post(
        f"/api/v1/conversations/{cid}/messages", content=b'{"text": "hi"', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON body")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": 5}, "text"),
        ({"text": "hi", "idempotency_key": ""}, "idempotency_key"),
        ({"text": "hi", "surprise": 1}, "surprise"),
        ([1, 2], "body"),
    ],
)
def test_wrong_shape_is_422(client: TestClient, body: Any, field: str) -> None:
    cid = start(client)
    response = client.post(f"/api/v1/conversations/{cid}/messages", json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and field in detail


def test_input_is_not_echoed_in_errors(client: TestClient) -> None:
    cid = start(client)
    response = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": 5, "secret": "4111 1111"})
    assert "4111" not in response.text


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
def test_wrong_content_type_is_415(client: TestClient, content_type: str | None) -> None:
    cid = start(client)
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(f"/api/v1/conversations/{cid}/messages", content=b'{"text": "hi"}', headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


def test_json_with_charset_is_accepted(client: TestClient) -> None:
    cid = start(client)
    response = client.post(
        f"/api/v1/conversations/{cid}/messages",
        content=b'{"text": "hi"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


def test_oversized_body_with_content_length_is_413(client: TestClient, web_desk: Any) -> None:
    cid = start(client)
    limit = web_desk.config.limits.max_request_bytes
    response = send(client, cid, "x" * (limit + 10))
    assert response.status_code == 413
    assert str(limit) in response.json()["detail"]
    assert count_customer_messages(web_desk, cid) == 0


def test_oversized_chunked_body_is_413(client: TestClient, web_desk: Any) -> None:
    cid = start(client)
    limit = web_desk.config.limits.max_request_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(limit // 1000 + 5):
            yield b"x" * 1000
        yield b'"}'

    response = client.post(
        f"/api/v1/conversations/{cid}/messages", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert count_customer_messages(web_desk, cid) == 0


def test_size_limit_over_real_http(web_desk: Any, app_server: Any) -> None:
    """Through uvicorn: a declared length and a chunked body (no Content-Length) are both refused."""
    limit = web_desk.config.limits.max_request_bytes
    with app_server(create_app(web_desk, rate_limits=GENEROUS)) as base, httpx.Client(base_url=base) as http:
        cid = http.post("/api/v1/conversations").json()["id"]
        url = f"/api/v1/conversations/{cid}/messages"
        try:  # refused on its Content-Length, before the body is read
            declared = http.post(url, json={"text": "x" * (limit + 1)})
            assert declared.status_code == 413
        except (httpx.WriteError, httpx.ReadError):  # the server answered 413 and closed while we still wrote
            pass

        sent = 0

        def endless() -> Iterator[bytes]:
            nonlocal sent
            yield b'{"text": "'
            while sent < 50 * limit:  # far more than the limit: the server must stop reading early
                sent += 8192
                yield b"x" * 8192

        try:
            chunked = http.post(url, content=endless(), headers={"Content-Type": "application/json"})
            assert chunked.status_code == 413
        except (httpx.WriteError, httpx.ReadError):  # the server answered 413 and closed while we still wrote
            pass
        assert sent < 50 * limit
        assert http.post(url, json={"text": QUESTION}).status_code == 200  # the server is fine


def test_invalid_content_length_is_400(client: TestClient) -> None:
    cid = start(client)
    response = client.post(
        f"/api/v1/conversations/{cid}/messages",
        content=b'{"text": "hi"}',
        headers={"Content-Type": "application/json", "Content-Length": "-5"},
    )
    assert response.status_code == 400


# ---- text is data, never markup --------------------------------------------------------------------

MARKUP = '<script>alert(1)</script><img src=x onerror="alert(2)"> & <b>bold</b>'


def test_markup_is_returned_verbatim_as_json(client: TestClient, web_desk: Any) -> None:
    cid = start(client)
    response = send(client, cid, MARKUP)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    add_staff_reply(web_desk, cid, MARKUP)
    messages = client.get(f"/api/v1/conversations/{cid}/messages").json()["messages"]
    assert messages[-1]["text"] == MARKUP  # not escaped, not stripped: the client renders it as text


def test_widget_renders_text_only_with_text_content() -> None:
    source = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.S)  # ignore comments
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        'setAttribute("on',
        ".onclick",
        "srcdoc",
    ):
        assert sink not in code, f"widget.js uses {sink}"
    assert "textContent" in code
    assert re.search(r"setTimeout\(\s*[\"']", code) is None  # no string timers


def test_shop_page_has_one_external_script_and_no_inline_code(client: TestClient, web_desk: Any) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert web_desk.config.business.name in html
    scripts = re.findall(r"<script\b[^>]*>", html, flags=re.I)
    assert scripts == ['<script src="/widget.js" defer>']
    assert re.search(r"<script\b[^>]*>\s*[^<\s]", html) is None  # no inline script body
    assert "<style" not in html and " style=" not in html and re.search(r"\son\w+=", html) is None


def test_static_files_have_their_types(client: TestClient) -> None:
    js, css = client.get("/widget.js"), client.get("/widget.css")
    assert js.status_code == css.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert css.headers["content-type"].startswith("text/css")


# ---- headers, health, schema ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/widget.js"),
        ("GET", "/healthz"),
        ("GET", "/openapi.json"),
        ("POST", "/api/v1/conversations"),
        ("GET", "/nowhere"),
        ("GET", "/api/v1/conversations/AAAAAAAAAAAAAAAA/messages"),
    ],
)
def test_security_headers_on_every_response(client: TestClient, method: str, path: str) -> None:
    headers = client.request(method, path).headers
    csp = headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'self'",
        "object-src 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "SAMEORIGIN"


def test_security_headers_on_a_413(client: TestClient) -> None:
    cid = start(client)
    response = send(client, cid, "x" * 200_000)
    assert response.status_code == 413
    assert response.headers["x-content-type-options"] == "nosniff"


def test_api_responses_are_not_cached(client: TestClient) -> None:
    assert client.post("/api/v1/conversations").headers["cache-control"] == "no-store"


def test_staff_app_is_mounted_when_present(client: TestClient) -> None:
    pytest.importorskip("safedesk.staff.routes")
    response = client.get("/staff/login")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_staff_uploads_have_their_own_size_limit(client: TestClient, web_desk: Any) -> None:
    pytest.importorskip("safedesk.staff.routes")
    upload = {"file": ("big.md", b"x" * (web_desk.config.limits.max_request_bytes + 1000), "text/markdown")}
    response = client.post("/staff/knowledge/upload", files=upload, follow_redirects=False)
    assert response.status_code != 413  # refused for want of a login, not for its size
    too_big = {"file": ("huge.md", b"x" * 400_000, "text/markdown")}
    assert client.post("/staff/knowledge/upload", files=too_big, follow_redirects=False).status_code == 413


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"ok": True}


def test_favicon_is_an_empty_answer_not_a_console_error(client: TestClient) -> None:
    assert client.get("/favicon.ico").status_code == 204
    assert client.head("/healthz").status_code == client.head("/").status_code == 200


def test_openapi_schema(client: TestClient, web_desk: Any) -> None:
    schema = client.get("/openapi.json").json()
    assert web_desk.config.business.name in schema["info"]["title"]
    paths = schema["paths"]
    assert set(paths) >= {"/api/v1/conversations", "/api/v1/conversations/{conversation_id}/messages", "/healthz"}
    post = paths["/api/v1/conversations/{conversation_id}/messages"]["post"]
    assert post["summary"] and {"404", "413", "415", "429"} <= set(post["responses"])
    components = schema["components"]["schemas"]
    reply = next(s for s in components.values() if s.get("title") == "Assistant reply")
    assert "from" in reply["properties"]
    message_in = next(s for s in components.values() if s.get("title") == "Customer message")
    assert message_in["properties"]["text"]["maxLength"] > 0


# ---- rate limiting -----------------------------------------------------------------------------------


def test_rate_limit_per_conversation(web_desk: Any) -> None:
    limits = RateLimits(messages_per_conversation=Rate(burst=2, per_minute=1))
    with TestClient(create_app(web_desk, rate_limits=limits)) as client:
        cid = start(client)
        assert [send(client, cid, QUESTION).status_code for _ in range(2)] == [200, 200]
        blocked = send(client, cid, QUESTION)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        assert "try again" in blocked.json()["detail"]
        other = start(client)  # another conversation is not affected
        assert send(client, other, QUESTION).status_code == 200


def test_rate_limit_per_ip(web_desk: Any) -> None:
    limits = RateLimits(conversations_per_ip=Rate(burst=3, per_minute=1))
    with TestClient(create_app(web_desk, rate_limits=limits)) as client:
        codes = [client.post("/api/v1/conversations").status_code for _ in range(5)]
        assert codes == [201, 201, 201, 429, 429]


def test_unknown_ids_count_against_the_ip() -> None:
    """Guessing conversation ids spends the client's own message budget."""
    limiter = RateLimiter(clock=lambda: 0.0)
    rate = Rate(burst=2, per_minute=60)
    assert limiter.hit("messages-ip", "1.2.3.4", rate) is None
    assert limiter.hit("messages-ip", "1.2.3.4", rate) is None
    assert limiter.hit("messages-ip", "1.2.3.4", rate) == pytest.approx(1.0)
    assert limiter.hit("messages-ip", "5.6.7.8", rate) is None


def test_token_bucket_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    rate = Rate(burst=1, per_minute=6)  # one token every 10 s
    assert limiter.hit("x", "k", rate) is None
    assert limiter.hit("x", "k", rate) == pytest.approx(10.0)
    now[0] = 5.0
    assert limiter.hit("x", "k", rate) == pytest.approx(5.0)
    now[0] = 10.0
    assert limiter.hit("x", "k", rate) is None


def test_limiter_memory_is_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(max_keys=100, clock=lambda: now[0])
    rate = Rate(burst=5, per_minute=60)
    for i in range(1000):
        now[0] += 1.0
        limiter.hit("x", str(i), rate)
    assert len(limiter._buckets) <= 101


# ---- concurrency -------------------------------------------------------------------------------------


def test_concurrent_posts_lose_and_duplicate_nothing(client: TestClient, web_desk: Any) -> None:
    cid = start(client)
    keys = [f"k{i}" for i in range(8)]
    jobs = [*keys, *keys[:4]]  # four keys are sent twice at the same time

    def post(key: str) -> dict[str, Any]:
        response = send(client, cid, f"{QUESTION} ({key})", key=key)
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(post, jobs))

    by_key: dict[str, set[int]] = {}
    for key, result in zip(jobs, results, strict=True):
        by_key.setdefault(key, set()).add(result["reply_id"])
    assert all(len(ids) == 1 for ids in by_key.values()), by_key  # a repeated key got the same reply

    with web_desk.db.session() as session:
        rows = session.execute(select(Message).where(Message.conversation_id == cid).order_by(Message.id)).scalars()
        messages = list(rows)
    customer = [m for m in messages if m.role == "customer"]
    replies = [m for m in messages if m.role == "assistant" and m.status == "delivered"]
    assert sorted(m.idempotency_key for m in customer) == sorted(keys)
    assert len(replies) == len(keys)
    assert sorted(m.reply_to for m in replies) == sorted(m.id for m in customer)
    disclosure = web_desk.config.disclosure_text()
    assert sum(disclosure in m.text for m in replies) == 1  # disclosed exactly once


def test_a_worker_whose_desk_does_not_open_stops_the_server(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """`serve --workers N`: exit code 3 makes uvicorn stop instead of restarting the worker forever."""
    from safedesk.web.app import PROJECT_ENV, create_app_from_env

    monkeypatch.delenv(PROJECT_ENV, raising=False)
    with pytest.raises(SystemExit) as stopped:
        create_app_from_env()
    assert stopped.value.code == 3 and "is not set" in caplog.text
    monkeypatch.setenv(PROJECT_ENV, "/nonexistent/desk")
    with pytest.raises(SystemExit) as stopped:
        create_app_from_env()
    assert stopped.value.code == 3 and "not a SafeDesk business directory" in caplog.text


def test_a_cursor_beyond_any_row_is_a_clear_422(client) -> None:  # type: ignore[no-untyped-def]
    cid = client.post("/api/v1/conversations").json()["id"]
    response = client.get(f"/api/v1/conversations/{cid}/messages", params={"after": 2**63})
    assert response.status_code == 422 and "after" in response.json()["detail"]
    assert client.get(f"/api/v1/conversations/{cid}/messages", params={"after": 2**63 - 1}).status_code == 200


def test_a_used_idempotency_key_with_different_text_is_a_409_not_a_lost_message(client) -> None:  # type: ignore[no-untyped-def]
    cid = client.post("/api/v1/conversations").json()["id"]
    first = client.post(f"/api/v1/conversations/{cid}/messages",
                        json={"text": "How long does delivery take?", "idempotency_key": "dup1"})  # fmt: skip
    retry = client.post(f"/api/v1/conversations/{cid}/messages",
                        json={"text": "How long does delivery take?", "idempotency_key": "dup1"})  # fmt: skip
    assert first.status_code == retry.status_code == 200 and retry.json()["reply"] == first.json()["reply"]
    before = client.get(f"/api/v1/conversations/{cid}/messages").json()["messages"]
    other = client.post(f"/api/v1/conversations/{cid}/messages",
                        json={"text": "I want a refund", "idempotency_key": "dup1"})  # fmt: skip
    assert other.status_code == 409 and "different message" in other.json()["detail"]
    streamed = client.post(f"/api/v1/conversations/{cid}/messages/stream",
                           json={"text": "I want a refund", "idempotency_key": "dup1"})  # fmt: skip
    assert streamed.status_code == 409
    assert client.get(f"/api/v1/conversations/{cid}/messages").json()["messages"] == before  # nothing stored


def test_staff_tools_take_their_full_length_of_non_latin_text(client: TestClient, web_desk: Any) -> None:
    """Found by a bug hunt: 15,000 Cyrillic characters (the scam check takes 16,000) form-encode to ~90 kB, and
    the desk's 64 kB body limit answered with a bare JSON 413 instead of the page."""
    import re

    from safedesk.staff import accounts

    password = "kayak-fjord-lantern-42"
    with web_desk.db.session() as session:
        accounts.create_user(session, web_desk.vault, "cyril", "agent", password, totp=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").text).group(1)  # type: ignore[union-attr]
    signed_in = client.post(
        "/staff/login",
        data={"username": "cyril", "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/tools/scam").text).group(1)  # type: ignore[union-attr]
    text = ("Здравствуйте, пожалуйста оплатите счёт сегодня. " * 400)[:15_000]
    response = client.post("/staff/tools/scam", data={"text": text, "csrf_token": token})
    assert response.status_code == 200, response.text[:200]
    assert "text/html" in response.headers["content-type"]
