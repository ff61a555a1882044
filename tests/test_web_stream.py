"""The streaming send endpoint (POST /api/v1/conversations/{id}/messages/stream): server-sent events
from the real pipeline on the demo desk, sharing validation, limits, idempotency and the turn lock
with the plain POST. A few tests wrap `run_streaming` to produce deltas, failures and a client that
leaves mid-stream, which the demo desk's approved responder (done only, no deltas) never does."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safedesk.errors import ResponderError, TurnInProgress
from safedesk.storage.models import Message
from safedesk.web.app import create_app
from safedesk.web.security import Rate, RateLimits

QUESTION = "How long does delivery take?"
GENEROUS = RateLimits(
    conversations_per_ip=Rate(1000, 6000),
    messages_per_ip=Rate(1000, 6000),
    messages_per_conversation=Rate(1000, 6000),
    polls_per_ip=Rate(1000, 6000),
)
REPLY_KEYS = {"message_id", "reply_id", "reply", "lane", "topic", "held_for_review", "sources", "author", "from"}


@pytest.fixture
def app(desk: Any) -> Any:
    return create_app(desk, rate_limits=GENEROUS)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def start(client: TestClient | httpx.Client) -> str:
    response = client.post("/api/v1/conversations")
    assert response.status_code == 201, response.text
    return response.json()["id"]


def stream_url(cid: str) -> str:
    return f"/api/v1/conversations/{cid}/messages/stream"


def plain_url(cid: str) -> str:
    return f"/api/v1/conversations/{cid}/messages"


def body(text: str = QUESTION, key: str | None = None) -> dict[str, Any]:
    return {"text": text} if key is None else {"text": text, "idempotency_key": key}


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event, data) pairs of a complete text/event-stream body."""
    assert text.endswith("\n\n"), text[-200:]
    events = []
    for block in text.split("\n\n")[:-1]:
        name, data = "message", []
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        events.append((name, json.loads("\n".join(data))))
    return events


def stream(client: TestClient, cid: str, key: str | None = None, **kwargs: Any) -> list[tuple[str, dict[str, Any]]]:
    response = client.post(stream_url(cid), json=body(key=key), **kwargs)
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


def count_messages(desk: Any, cid: str, role: str) -> int:
    with desk.db.session() as session:
        return session.scalar(
            select(func.count()).select_from(Message).where(Message.conversation_id == cid, Message.role == role)
        )


def wait_until_unlocked(app: Any, timeout: float = 5.0) -> None:
    locks = app.state.web.turn_locks
    deadline = time.monotonic() + timeout
    while locks._locks and time.monotonic() < deadline:
        time.sleep(0.02)
    assert locks._locks == {}, "a turn lock was never released"


# ---- with the real pipeline ----------------------------------------------------------------------


def test_done_event_matches_the_plain_reply(client: TestClient, desk: Any, app: Any) -> None:
    streamed_cid, plain_cid = start(client), start(client)
    events = stream(client, streamed_cid)
    assert [name for name, _ in events] == ["done"]  # the approved responder does not stream
    done = events[0][1]
    plain = client.post(plain_url(plain_cid), json=body()).json()
    assert set(done) == set(plain) == REPLY_KEYS
    same = ("reply", "lane", "topic", "held_for_review", "sources", "author", "from")
    assert {k: done[k] for k in same} == {k: plain[k] for k in same}
    assert done["reply"].startswith(desk.config.disclosure_text())
    assert "business days" in done["reply"]
    assert done["reply_id"] > done["message_id"]

    # The reply is stored and delivered like any other, and the turn lock is free again.
    delivered = client.get(plain_url(streamed_cid)).json()["messages"]
    assert [(m["id"], m["text"]) for m in delivered] == [(done["reply_id"], done["reply"])]
    wait_until_unlocked(app)


def test_stream_headers(client: TestClient) -> None:
    cid = start(client)
    response = client.post(stream_url(cid), json=body())
    assert response.status_code == 200
    headers = response.headers
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "no-store"
    assert headers["x-accel-buffering"] == "no"
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "SAMEORIGIN"


def test_idempotency_key_is_shared_with_the_plain_endpoint(client: TestClient, desk: Any) -> None:
    cid = start(client)
    done = stream(client, cid, key="shared-1")[-1][1]
    plain = client.post(plain_url(cid), json=body(key="shared-1")).json()
    assert (plain["message_id"], plain["reply_id"], plain["reply"]) == (
        done["message_id"],
        done["reply_id"],
        done["reply"],
    )
    again = stream(client, cid, headers={"Idempotency-Key": "shared-1"})[-1][1]  # the header works too
    assert again["reply_id"] == done["reply_id"]

    other = start(client)  # and the other way round: plain first, then the stream
    first = client.post(plain_url(other), json=body(key="shared-2")).json()
    assert stream(client, other, key="shared-2")[-1][1]["reply_id"] == first["reply_id"]
    assert count_messages(desk, cid, "customer") == count_messages(desk, other, "customer") == 1


def test_unknown_or_foreign_conversation_is_404(client: TestClient, desk: Any) -> None:
    response = client.post(stream_url("AAAAAAAAAAAAAAAAAAAAAA"), json=body())
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert "No such conversation" in response.json()["detail"]
    desk.pipeline.run("cli-conversation-1", QUESTION, channel="cli")
    assert client.post(stream_url("cli-conversation-1"), json=body()).status_code == 404


def test_malformed_json_is_400(client: TestClient) -> None:
    cid = start(client)
    response = client.post(stream_url(cid), content=b'{"text": "hi"', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed JSON body")


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"content": b'{"text": "hi"}', "headers": {"Content-Type": "text/plain"}}, 415),
        ({"json": {"text": "hi", "surprise": 1}}, 422),
        ({"json": {"text": "hi", "idempotency_key": "a"}, "headers": {"Idempotency-Key": "b"}}, 400),
    ],
)
def test_same_validation_as_the_plain_endpoint(client: TestClient, kwargs: dict[str, Any], status: int) -> None:
    cid = start(client)
    assert client.post(stream_url(cid), **kwargs).status_code == status
    assert client.post(plain_url(cid), **kwargs).status_code == status


def test_rate_limit_is_429_and_shared_with_the_plain_endpoint(desk: Any) -> None:
    limits = RateLimits(messages_per_conversation=Rate(burst=2, per_minute=1))
    with TestClient(create_app(desk, rate_limits=limits)) as client:
        cid = start(client)
        assert client.post(stream_url(cid), json=body()).status_code == 200
        assert client.post(plain_url(cid), json=body("And to Sweden?")).status_code == 200
        blocked = client.post(stream_url(cid), json=body("And to Finland?"))
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
        assert "try again" in blocked.json()["detail"]
        assert client.post(plain_url(cid), json=body("And to Finland?")).status_code == 429
        assert count_messages(desk, cid, "customer") == 2


def test_streams_over_real_http(app: Any, app_server: Any) -> None:
    with app_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        cid = start(http)
        with http.stream("POST", stream_url(cid), json=body(key="real-1")) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert "content-length" not in response.headers
            text = "".join(response.iter_text())
        done = parse_sse(text)[-1]
        assert done[0] == "done" and "business days" in done[1]["reply"]
        wait_until_unlocked(app)
        plain = http.post(plain_url(cid), json=body(key="real-1"))
        assert plain.json()["reply_id"] == done[1]["reply_id"]


def test_openapi_documents_the_stream(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    post = paths["/api/v1/conversations/{conversation_id}/messages/stream"]["post"]
    assert post["summary"] and "event: delta" in post["description"] and "replace" in post["description"]
    assert set(post["responses"]["200"]["content"]) == {"text/event-stream"}
    assert {"400", "404", "413", "415", "429", "503"} <= set(post["responses"])
    assert set(post["responses"]["404"]["content"]) == {"application/json"}
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/MessageIn")


# ---- deltas, failures and a client that leaves: run_streaming wrapped -------------------------------


def test_deltas_come_before_done_in_order(client: TestClient, desk: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real = desk.pipeline.run_streaming

    def with_deltas(conversation_id: str, text: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield {"type": "delta", "text": "Delivery in Norway takes 2-4 business days. "}
        yield {"type": "delta", "text": 'Markup stays <b>text</b> and "quotes" too.\nNew line. '}
        yield from real(conversation_id, text, **kwargs)

    monkeypatch.setattr(desk.pipeline, "run_streaming", with_deltas)
    events = stream(client, start(client))
    assert [name for name, _ in events] == ["delta", "delta", "done"]
    assert events[1][1] == {"text": 'Markup stays <b>text</b> and "quotes" too.\nNew line. '}
    assert "business days" in events[2][1]["reply"]


def test_error_after_the_stream_started_is_an_error_event(
    client: TestClient, desk: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(conversation_id: str, text: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield {"type": "delta", "text": "Delivery takes "}
        raise ResponderError("the model went away")

    monkeypatch.setattr(desk.pipeline, "run_streaming", failing)
    cid = start(client)
    events = stream(client, cid)
    assert [name for name, _ in events] == ["delta", "error"]
    assert "retry with the same idempotency key" in events[1][1]["detail"]
    assert "model" not in events[1][1]["detail"]  # no internals
    wait_until_unlocked(app)
    monkeypatch.undo()
    assert client.post(plain_url(cid), json=body()).status_code == 200  # the conversation is not stuck


def test_error_before_the_first_event_is_a_503(
    client: TestClient, desk: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(conversation_id: str, text: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        raise TurnInProgress("still being answered")
        yield {}  # pragma: no cover - makes this a generator

    monkeypatch.setattr(desk.pipeline, "run_streaming", busy)
    cid = start(client)
    response = client.post(stream_url(cid), json=body(key="busy-1"))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"].startswith("application/json")
    wait_until_unlocked(app)


def test_client_leaving_mid_stream_neither_loses_nor_duplicates_the_reply(
    desk: Any, app: Any, app_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The turn runs to its end after the client left, then frees the conversation; the widget's
    fallback (the plain POST with the same key) gets that same reply."""
    real = desk.pipeline.run_streaming
    gate = threading.Event()

    def slow(conversation_id: str, text: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield {"type": "delta", "text": "Let me check. "}
        gate.wait(10)
        yield from real(conversation_id, text, **kwargs)

    monkeypatch.setattr(desk.pipeline, "run_streaming", slow)
    with app_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        cid = start(http)
        with http.stream("POST", stream_url(cid), json=body(key="leave-1")) as response:
            first = next(response.iter_text())
            assert first.startswith("event: delta\n")
        # The connection is closed here, mid-stream; the turn has not been answered yet.
        assert app.state.web.turn_locks._locks  # still this turn's
        gate.set()
        plain = http.post(plain_url(cid), json=body(key="leave-1"))  # waits for the lock
        assert plain.status_code == 200, plain.text
        wait_until_unlocked(app)
    assert "business days" in plain.json()["reply"]
    assert count_messages(desk, cid, "customer") == 1
    assert count_messages(desk, cid, "assistant") == 1
