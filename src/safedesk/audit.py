"""Tamper-evident audit log: an append-only hash chain of events, a verifier and an exporter.

Each event's hash is sha256 over the previous event's hash and this event's canonical content,
so editing, deleting or reordering any stored event breaks the chain from that event on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from safedesk.storage.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _canonical(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(prev_hash: str, ts: str, kind: str, conversation_id: str | None, actor: str, data: str) -> str:
    content = _canonical(
        {"prev": prev_hash, "ts": ts, "kind": kind, "conversation": conversation_id, "actor": actor, "data": data}
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def append(
    session: Session,
    kind: str,
    *,
    conversation_id: str | None = None,
    actor: str = "desk",
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction. Locks the chain head so appends serialise."""
    return append_many(session, [(kind, data or {})], conversation_id=conversation_id, actor=actor)[-1]


def append_many(
    session: Session,
    events: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    conversation_id: str | None = None,
    actor: str = "desk",
) -> list[AuditEvent]:
    """Append several events in order, locking and updating the chain head once."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS, count=0)
        session.add(head)
    written = []
    for kind, data in events:
        ts = datetime.now(UTC).isoformat(timespec="microseconds")
        payload = _canonical(dict(data))
        digest = event_hash(head.last_hash, ts, kind, conversation_id, actor, payload)
        event = AuditEvent(
            ts=ts,
            kind=kind,
            conversation_id=conversation_id,
            actor=actor,
            data=payload,
            prev_hash=head.last_hash,
            hash=digest,
        )
        session.add(event)
        head.last_hash = digest
        head.count += 1
        written.append(event)
    session.flush()
    return written


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    events: int
    broken_event_id: int | None = None
    reason: str = ""


def verify(session: Session, batch: int = 2000) -> ChainReport:
    """Walk the chain in id order; name the first event whose link or hash does not hold.

    Then compare with the chain's head (last hash and count). On a busy desk, events committed during the
    walk make the head run ahead of it: those events are walked too, and the head read again, until the two
    agree. A head behind the walk means events were added outside the desk; a walk that cannot catch up
    means events at the end were removed."""
    walk = _Walk()
    broken = walk.extend(session, batch)
    for _ in range(_HEAD_ROUNDS):
        if broken is not None:
            return broken
        head = session.execute(
            select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
        ).scalar_one_or_none()
        if head is None or (head.count == walk.count and head.last_hash == walk.prev):
            return ChainReport(True, walk.count)
        if head.count < walk.count:
            return ChainReport(False, walk.count, None, "events at its end are not in the chain's head (added "
                               "outside the desk)")  # fmt: skip
        caught_up_from = walk.count
        broken = walk.extend(session, batch)
        if broken is None and walk.count == caught_up_from:
            return ChainReport(False, walk.count, None, "the chain ends early: events at its end were removed")
    return broken or ChainReport(False, walk.count, None, "the chain kept growing while it was checked; check again")


_HEAD_ROUNDS = 5


class _Walk:
    """Where a chain walk stands: the last event's hash and id, and how many events held."""

    def __init__(self) -> None:
        self.prev, self.count, self.last_id = GENESIS, 0, 0

    def extend(self, session: Session, batch: int) -> ChainReport | None:
        """Walk on from the last event; a report when a link or hash does not hold."""
        for event in _iter_events(session, batch, after=self.last_id):
            if event.prev_hash != self.prev:
                return ChainReport(
                    False,
                    self.count,
                    event.id,
                    "its link to the previous event does not match (an event before it was changed, removed or "
                    "inserted)",
                )
            expected = event_hash(self.prev, event.ts, event.kind, event.conversation_id, event.actor, event.data)
            if expected != event.hash:
                return ChainReport(
                    False, self.count, event.id, "its content does not match its hash (the event was edited)"
                )
            self.prev, self.count, self.last_id = event.hash, self.count + 1, event.id
        return None


def _iter_events(session: Session, batch: int, after: int = 0) -> Iterator[AuditEvent]:
    last_id = after
    while True:
        rows = (
            session.execute(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch))
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def export_rows(session: Session) -> Iterator[dict[str, Any]]:
    for event in _iter_events(session, 2000):
        yield {
            "id": event.id,
            "ts": event.ts,
            "kind": event.kind,
            "conversation": event.conversation_id,
            "actor": event.actor,
            "data": json.loads(event.data),
            "prev_hash": event.prev_hash,
            "hash": event.hash,
        }


def recent_events(
    session: Session, *, before: int | None = None, kind_prefix: str = "", limit: int = 100
) -> list[AuditEvent]:
    """Newest first: up to `limit` events with an id below `before` (all when None) whose kind starts with
    `kind_prefix` (e.g. "staff." or "turn.")."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    if kind_prefix:
        query = query.where(AuditEvent.kind.startswith(kind_prefix, autoescape=True))
    return list(session.execute(query).scalars())
