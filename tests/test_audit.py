"""The audit log is a hash chain: any edit, deletion or insertion is found and named."""

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from safedesk import audit
from safedesk.storage.db import Database
from safedesk.storage.models import AuditEvent


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    with database.session() as session:
        for i in range(5):
            audit.append(session, "test.event", conversation_id="c1", data={"i": i})
    return database


def test_intact_chain_verifies(db: Database) -> None:
    with db.session() as session:
        report = audit.verify(session)
    assert report.ok and report.events == 5


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s.execute(update(AuditEvent).where(AuditEvent.id == 3).values(data=json.dumps({"i": 99}))),
        lambda s: s.execute(update(AuditEvent).where(AuditEvent.id == 3).values(kind="other")),
        lambda s: s.execute(update(AuditEvent).where(AuditEvent.id == 3).values(actor="mallory")),
    ],
    ids=["data", "kind", "actor"],
)
def test_edited_event_is_named(db: Database, tamper) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        tamper(session)
    with db.session() as session:
        report = audit.verify(session)
    assert not report.ok
    assert report.broken_event_id == 3
    assert report.events == 2


def test_deleted_event_is_found(db: Database) -> None:
    with db.session() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.id == 2))
    with db.session() as session:
        report = audit.verify(session)
    assert not report.ok and report.broken_event_id == 3


def test_truncated_tail_is_found(db: Database) -> None:
    with db.session() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.id == 5))
    with db.session() as session:
        report = audit.verify(session)
    assert not report.ok and report.broken_event_id is None and "end" in report.reason


def test_export_round_trips_every_event(db: Database) -> None:
    with db.session() as session:
        rows = list(audit.export_rows(session))
        ids = session.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars().all()
    assert [r["id"] for r in rows] == list(ids)
    assert rows[0]["prev_hash"] == audit.GENESIS
    assert all(rows[i]["prev_hash"] == rows[i - 1]["hash"] for i in range(1, len(rows)))


def test_an_event_added_at_the_end_outside_the_desk_is_found(db: Database) -> None:
    """A forged event that links and hashes correctly, but that the chain's head does not count."""
    with db.session() as session:
        last = session.execute(select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()
        assert last is not None
        ts, data = last.ts, json.dumps({"i": 99})
        session.add(AuditEvent(ts=ts, kind="test.event", conversation_id="c1", actor="mallory", data=data,
                               prev_hash=last.hash,
                               hash=audit.event_hash(last.hash, ts, "test.event", "c1", "mallory", data)))  # fmt: skip
    with db.session() as session:
        report = audit.verify(session)
    assert not report.ok and "not in the chain's head" in report.reason
