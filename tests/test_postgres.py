"""PostgreSQL for multi-worker deployments, tested for real against the server at 127.0.0.1:5432.

Each test run gets its own database (created and dropped here). Several processes write turns and
audit events at once: no message is lost or duplicated and the audit chain stays one chain.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from safedesk import audit
from safedesk.storage.db import Database
from safedesk.storage.models import Message

pytestmark = pytest.mark.postgres

ADMIN_URL = os.environ.get("SAFEDESK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _server_up() -> bool:
    try:
        with create_engine(ADMIN_URL).connect() as conn:
            conn.execute(text("select 1"))
        return True
    except Exception:
        return False


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    yield from _scratch_database()


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A database of its own, never migrated."""
    yield from _scratch_database()


def _scratch_database() -> Iterator[str]:
    if not _server_up():
        pytest.skip(f"no PostgreSQL at {ADMIN_URL}")
    name = f"safedesk_test_{secrets.token_hex(4)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        create_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate_at(url: str, start_at: float) -> None:
    import time

    time.sleep(max(0.0, start_at - time.time()))
    Database(url).dispose()


@pytest.mark.parametrize("isolation", ["read committed", "repeatable read"])
def test_workers_starting_together_on_an_empty_database_all_start(empty_pg_url: str, isolation: str) -> None:
    """Each process migrates on start; on an empty database they would race to create the same tables
    (all but one failed before migrations took an advisory lock). Also when the server's default isolation
    is stricter than READ COMMITTED, where a waiter's snapshot could predate the first migrator's commit."""
    import time

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        name = empty_pg_url.rsplit("/", 1)[1]
        conn.execute(text(f"ALTER DATABASE \"{name}\" SET default_transaction_isolation = '{isolation}'"))
    admin.dispose()

    ctx = mp.get_context("spawn")
    start_at = time.time() + 3  # after every process has imported SafeDesk
    procs = [ctx.Process(target=_migrate_at, args=(empty_pg_url, start_at)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]


def _worker(project: str, url: str, worker: int, turns: int) -> None:
    from safedesk.desk import Desk

    desk = Desk.open(Path(project), database_url=url)
    try:
        for i in range(turns):
            desk.pipeline.run(f"pg-{worker}-{i % 3}", "How long does delivery take?", idempotency_key=f"w{worker}-t{i}")
            # A retry of the same request from the same worker must not duplicate the message.
            desk.pipeline.run(f"pg-{worker}-{i % 3}", "How long does delivery take?", idempotency_key=f"w{worker}-t{i}")
    finally:
        desk.close()


def test_migrations_run_and_are_idempotent(pg_url: str) -> None:
    Database(pg_url).dispose()
    Database(pg_url).dispose()  # a second start finds the schema current


def test_concurrent_workers_keep_messages_and_audit_chain(pg_url: str, fresh_demo_dir: Path) -> None:
    workers, turns = 3, 6
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(str(fresh_demo_dir), pg_url, w, turns)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    db = Database(pg_url)
    try:
        with db.session() as session:
            customer = session.scalar(select(func.count()).select_from(Message).where(Message.role == "customer"))
            replies = session.scalar(select(func.count()).select_from(Message).where(Message.role == "assistant"))
            report = audit.verify(session)
        assert customer == workers * turns
        assert replies == workers * turns
        assert report.ok, report
        assert report.events >= workers * turns * 3
    finally:
        db.dispose()


def test_message_ids_of_a_conversation_commit_in_order(pg_url: str) -> None:
    """The widget polls with `id > last_id`. On PostgreSQL ids come from a sequence at insert time, so
    without a per-conversation lock a slow transaction could commit id N after a reader already saw
    N+1, and the customer would never see message N. Here a staff reply (slow to commit) and an
    assistant reply race in one conversation; a reader must never see the later id without the earlier.
    """
    import threading
    import time

    from safedesk import domain
    from safedesk.storage import repository as repo

    db = Database(pg_url)
    cid = f"pg-order-{secrets.token_hex(3)}"
    with db.session() as session:
        repo.get_or_create_conversation(session, cid)
    inserted = threading.Event()

    def slow_writer() -> None:
        with db.session() as session:
            repo.add_message(session, cid, domain.Role.STAFF, "slow", status="delivered")
            inserted.set()
            time.sleep(1.0)  # still uncommitted while the other reply is written

    def fast_writer() -> None:
        inserted.wait(5)
        with db.session() as session:
            repo.add_message(session, cid, domain.Role.ASSISTANT, "fast", status="delivered")

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=fast_writer)]
    try:
        for t in threads:
            t.start()
        inserted.wait(5)
        snapshots = []
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            with db.session() as session:
                snapshots.append(
                    session.execute(select(Message.id).where(Message.conversation_id == cid).order_by(Message.id))
                    .scalars()
                    .all()
                )
            time.sleep(0.05)
        for t in threads:
            t.join(10)
        with db.session() as session:
            final = session.execute(select(Message.id).where(Message.conversation_id == cid).order_by(Message.id))
            final_ids = final.scalars().all()
        assert len(final_ids) == 2
        for seen in snapshots:  # every snapshot is a prefix of the final order: nothing appears behind a cursor
            assert seen == final_ids[: len(seen)], (seen, final_ids)
    finally:
        db.dispose()


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_serve_with_several_workers_runs_them_on_postgresql(pg_url: str, fresh_demo_dir: Path, tmp_path: Path) -> None:
    """`safedesk serve --workers 2`: two worker processes each open the desk and answer; the parent opens none."""
    import subprocess
    import sys
    import time

    import httpx

    config = fresh_demo_dir / "safedesk.yaml"
    config.write_text(config.read_text(encoding="utf-8") + f"\nstorage:\n  url: {pg_url}\n", encoding="utf-8")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = Path(sys.executable).with_name("safedesk")
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [str(exe), "serve", "--project", str(fresh_demo_dir), "--port", str(port), "--workers", "2"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.time() + 180
        while log_path.read_text(errors="replace").count("Application startup complete") < 2:
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail(f"serve --workers 2 did not start both workers:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.5)
        base = f"http://127.0.0.1:{port}"
        ids = set()
        for _ in range(6):
            cid = httpx.post(f"{base}/api/v1/conversations", timeout=30).json()["id"]
            reply = httpx.post(f"{base}/api/v1/conversations/{cid}/messages", json={"text": "Do you ship to Norway?"},
                               timeout=30)  # fmt: skip
            assert reply.status_code == 200, reply.text
            ids.add(cid)
        assert len(ids) == 6
        workers = []
        for pid in _children(proc.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_text()
            except OSError:
                continue
            if "spawn_main" in cmdline:
                workers.append(pid)
        assert len(workers) == 2
        parent_rss_kb = int(next(line.split()[1] for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
                                 if line.startswith("VmRSS:")))  # fmt: skip
        assert parent_rss_kb < 150_000  # it never opened a desk itself
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_chain_check_on_a_busy_desk_is_not_a_false_alarm(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Events committed while the chain is walked (other workers' turns) move the head ahead of the walk;
    the check walks them too instead of reporting a chain that "ends early"."""
    db = Database(pg_url)
    other = Database(pg_url)
    try:
        with db.session() as session:
            audit.append(session, "test.busy", data={"i": 0})
        real = audit._Walk.extend
        calls = {"n": 0}

        def extend_then_someone_appends(self, session, batch):  # type: ignore[no-untyped-def]
            result = real(self, session, batch)
            calls["n"] += 1
            if calls["n"] == 1:
                with other.session() as concurrent:
                    audit.append(concurrent, "test.busy", data={"i": 1})
            return result

        monkeypatch.setattr(audit._Walk, "extend", extend_then_someone_appends)
        with db.session() as session:
            report = audit.verify(session)
        assert report.ok, report
        assert calls["n"] == 2  # it walked on to the event committed meanwhile
    finally:
        db.dispose()
        other.dispose()


def test_turns_of_one_conversation_on_two_workers_take_turns(pg_url: str, fresh_demo_dir: Path) -> None:
    """Found by a bug hunt on two workers: turns of one conversation ran at once in different workers, so
    two replies carried the AI disclosure, two turns numbered the same placeholder (<EMAIL_1>: a unique
    violation, HTTP 500), and turns deadlocked on the conversation row and the audit head. A retry of a
    message whose worker died was refused for two minutes. Two desks on one database stand for two
    workers: the turn lock must hold across processes, not just threads."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from safedesk.desk import Desk
    from safedesk.storage import repository as repo

    desks = [Desk.open(fresh_demo_dir, database_url=pg_url) for _ in range(2)]
    try:
        cid = f"two-workers-{secrets.token_hex(3)}"
        texts = [
            "I want to change my email address. My current one is ingrid.berg@example.com",
            "How long does delivery take?",
        ]
        barrier = threading.Barrier(8)

        def send(i: int) -> str:
            barrier.wait()
            return desks[i % 2].pipeline.run(cid, texts[i % 2], idempotency_key=f"k{i}").reply

        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(send, range(8)))
        disclosure = desks[0].config.disclosure_text()
        assert sum(r.startswith(disclosure) for r in replies) == 1
        with desks[0].db.session() as session:
            customer = list(
                session.execute(
                    select(Message).where(Message.conversation_id == cid, Message.role == "customer")
                ).scalars()
            )
            assert len(customer) == 8 and all(repo.reply_to(session, m.id) is not None for m in customer)
            assert audit.verify(session).ok

        # A worker died mid-turn: its message stays "processing". The retry is answered at once.
        stuck = desks[0].pipeline.run(cid, "Do you ship to Sweden?", idempotency_key="stuck")
        with desks[0].db.session() as session:
            message = session.get(Message, stuck.message_id)
            assert message is not None
            reply = repo.reply_to(session, message.id)
            assert reply is not None
            session.delete(reply)
            message.status = "processing"
        retried = desks[1].pipeline.run(cid, "Do you ship to Sweden?", idempotency_key="stuck")
        assert retried.reply_id is not None and retried.message_id == stuck.message_id
    finally:
        for desk in desks:
            desk.close()


def test_a_turn_lock_the_server_cannot_give_is_busy_not_an_error(pg_url: str) -> None:
    """A review found that a refused lock connection (too many connections, the server away) became an HTTP
    500; it is now "busy, retry" (TurnInProgress, a 503), and the slot is given back."""
    from safedesk.storage import db as db_module

    database = Database(pg_url)
    try:
        database._lock_engine = create_engine(ADMIN_URL.replace(":5432/", ":1/"), poolclass=db_module.NullPool)
        for _ in range(db_module.TURN_LOCK_CONNECTIONS + 1):  # every slot is released again
            with database.turn_lock("c-1", timeout=0.5) as acquired:
                assert acquired is False
    finally:
        database.dispose()


def test_review_sampling_does_not_skip_an_answer_that_committed_late(pg_url: str) -> None:
    """A turn's transaction draws its message id at insert and may commit after another turn's higher id.
    A review scan in between moved its cursor past the lower id, and that AI answer was never sampled."""
    from safedesk import domain
    from safedesk.staff import review
    from safedesk.storage import repository as repo
    from safedesk.storage.staff_models import ReviewItem

    db = Database(pg_url)
    slow_cid, fast_cid = (f"pg-review-{name}-{secrets.token_hex(3)}" for name in ("slow", "fast"))

    def queued(session, *ids: int) -> list[int]:  # other tests of this module wrote answers too
        rows = select(ReviewItem.message_id).where(ReviewItem.message_id.in_(ids)).order_by(ReviewItem.message_id)
        return list(session.execute(rows).scalars())

    def answer(session, cid: str) -> Message:
        return repo.add_message(
            session, cid, domain.Role.ASSISTANT, "Two days.", status="delivered", lane="answer", sources=["Shipping"]
        )

    try:
        with db.session() as session:
            for cid in (slow_cid, fast_cid):
                repo.get_or_create_conversation(session, cid)
        with db.session() as slow:  # a turn still running: its answer has an id, not yet committed
            late = answer(slow, slow_cid)
            slow.flush()
            with db.session() as fast:
                early = answer(fast, fast_cid)
            assert early.id > late.id
            with db.session() as scan:  # a reviewer opens the queue: the cursor passes both ids
                review.sync_review_queue(scan, 1.0)
                assert queued(scan, early.id, late.id) == [early.id]  # the late one is not visible yet
            late_id = late.id
        with db.session() as scan:
            review.sync_review_queue(scan, 1.0)
            assert queued(scan, early.id, late_id) == sorted([early.id, late_id])
            review.sync_review_queue(scan, 1.0)
            assert queued(scan, early.id, late_id) == sorted([early.id, late_id])  # nothing is queued twice
    finally:
        db.dispose()
