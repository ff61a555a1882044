"""Benchmark of the staff inbox: render the inbox page over a database of 10,000 conversations.

    python -m safedesk.bench.inbox            # or: safedesk bench inbox

Builds a throw-away business directory (SQLite in a temporary folder), bulk-inserts conversations,
messages and tasks, signs an owner in, and renders pages through FastAPI's TestClient (the whole
app stack: routing, session check, queries, Jinja2, security headers; no network). Reports
p50/p95/max per page. Target: inbox p95 < 100 ms.
"""

from __future__ import annotations

import random
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from safedesk.storage.models import Conversation, Message, Task

TARGET_P95_MS = 100.0


def _seed(desk: Any, conversations: int, rng: random.Random) -> dict[str, int]:
    now = datetime.now(UTC)
    conv_rows, msg_rows, task_rows = [], [], []
    next_message_id = 1
    topics = ["general_info", "order_status", "refund", "complaint", "human_request", "payment_issue"]
    for i in range(conversations):
        cid = f"bench-{i:05d}"
        created = now - timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
        lane = rng.choices(["answer", "human", "verify", "refuse"], weights=[70, 15, 12, 3])[0]
        topic = rng.choice(topics)
        conv_rows.append(
            {
                "id": cid,
                "channel": "web",
                "created_at": created,
                "updated_at": created,
                "status": "human" if lane == "human" else "open",
                "last_lane": lane,
                "last_topic": topic,
                "disclosed": True,
                "flagged": lane == "refuse",
                "assigned_to": None,
                "verified_customer_id": None,
            }
        )
        question_id = next_message_id
        msg_rows.append(
            {
                "id": question_id,
                "conversation_id": cid,
                "role": "customer",
                "text": f"Hello, my name is <PERSON_1> and I have a question about order {i} ({topic}).",
                "original_encrypted": None,
                "idempotency_key": None,
                "status": "processed",
                "lane": lane,
                "topic": topic,
                "findings": [
                    {"guard": "router", "kind": "topic", "score": 0.8, "reason": f"topic {topic}", "label": topic}
                ],
                "sources": [],
                "author": None,
                "reply_to": None,
                "created_at": created,
            }
        )
        msg_rows.append(
            {
                "id": question_id + 1,
                "conversation_id": cid,
                "role": "assistant",
                "text": "Thanks! A member of our team will get back to you.",
                "original_encrypted": None,
                "idempotency_key": None,
                "status": "delivered",
                "lane": lane,
                "topic": topic,
                "findings": [],
                "sources": ["FAQ"] if lane == "answer" else [],
                "author": None,
                "reply_to": question_id,
                "created_at": created,
            }
        )
        next_message_id += 2
        kind = {"human": "handoff", "verify": "verification", "refuse": "attack"}.get(lane)
        if kind is None and rng.random() < 0.05:
            kind = "held_draft"
        if kind is not None:
            open_ = rng.random() < 0.6
            task_rows.append(
                {
                    "conversation_id": cid,
                    "kind": kind,
                    "status": "open" if open_ else "done",
                    "message_id": question_id,
                    "summary": f"{kind.replace('_', ' ')}: {topic}",
                    "data": {"topic": topic},
                    "assigned_to": None,
                    "created_at": created,
                    "closed_at": None if open_ else created + timedelta(minutes=30),
                }
            )
    with desk.db.session() as session:
        session.execute(insert(Conversation), conv_rows)
        session.execute(insert(Message), msg_rows)
        session.execute(insert(Task), task_rows)
    return {
        "conversations": len(conv_rows),
        "messages": len(msg_rows),
        "tasks": len(task_rows),
        "open_tasks": sum(t["status"] == "open" for t in task_rows),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _time(client: Any, path: str, renders: int) -> dict[str, float]:
    for _ in range(5):  # warm-up: template compilation, SQLite page cache
        assert client.get(path).status_code == 200, path
    samples = []
    for _ in range(renders):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")
    return {"p50": statistics.median(samples), "p95": _percentile(samples, 0.95), "max": max(samples)}


def run_inbox_bench(conversations: int = 10_000, renders: int = 200, *, seed: int = 7) -> str:
    """Seed `conversations` into a fresh database, render the inbox `renders` times; a text report."""
    from fastapi.testclient import TestClient

    from safedesk.staff import accounts
    from safedesk.staff.auth import SESSION_COOKIE, create_session
    from safedesk.staff.harness import LightDesk, staff_app

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="safedesk-inbox-bench-") as tmp:
        desk = LightDesk.open(Path(tmp) / "shop", business="Bench Shop")
        try:
            started = time.perf_counter()
            counts = _seed(desk, conversations, rng)
            seed_seconds = time.perf_counter() - started
            with desk.db.session() as session:
                user = accounts.create_user(session, desk.vault, "owner", "owner", secrets.token_urlsafe(24)).user
                token = create_session(session, user.id)
                some = session.execute(select(Task.conversation_id).where(Task.status == "open").limit(1)).scalar()
            client = TestClient(staff_app(desk))
            client.cookies.set(SESSION_COOKIE, token)
            pages = {
                "inbox (all queues, page 1)": "/staff/inbox",
                "inbox (hand-offs)": "/staff/inbox?kind=handoff",
                "inbox (page 20)": "/staff/inbox?page=20",
                "conversation": f"/staff/conversations/{some}",
                "dashboard (30 days)": "/staff/dashboard",
            }
            results = {
                name: _time(client, path, renders if "inbox" in name else max(20, renders // 5))
                for name, path in pages.items()
            }
        finally:
            desk.close()
    lines = [
        f"inbox bench: {counts['conversations']:,} conversations, {counts['messages']:,} messages, "
        f"{counts['tasks']:,} tasks ({counts['open_tasks']:,} open); seeded in {seed_seconds:.1f} s (bulk insert); "
        f"SQLite, TestClient, {renders} renders",
    ]
    for name, r in results.items():
        lines.append(f"  {name:<28} p50 {r['p50']:6.1f} ms   p95 {r['p95']:6.1f} ms   max {r['max']:6.1f} ms")
    p95 = results["inbox (all queues, page 1)"]["p95"]
    verdict = "meets" if p95 < TARGET_P95_MS else "MISSES"
    lines.append(f"  inbox p95 {p95:.1f} ms {verdict} the target of < {TARGET_P95_MS:.0f} ms")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run_inbox_bench())
