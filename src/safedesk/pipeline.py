"""TurnPipeline: the stages of one customer turn, in order, in one readable place.

receive (persist first) -> inbound guards -> redact -> policy -> context + responder (answer lane)
-> outbound guards -> deliver or hold; every stage is timed and writes an audit event.
The web app, the CLI and the tests all call `TurnPipeline.run`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.orm import Session

from safedesk import audit, replies
from safedesk.config import DeskConfig
from safedesk.domain import (
    Decision,
    Draft,
    Finding,
    Lane,
    ResponderRequest,
    RetrievedChunk,
    Role,
    Stage,
    Topic,
    TurnResult,
)
from safedesk.errors import IdempotencyConflict, ResponderError, SafeDeskError, TurnInProgress
from safedesk.guards.base import Guard, GuardContext
from safedesk.knowledge.base import KnowledgeBase
from safedesk.knowledge.published import PublishedNames
from safedesk.policy import WITH_STAFF, DraftAction, DraftVerdict, asks_if_human, decide, review_draft
from safedesk.redaction import Pseudonymizer, placeholders_in_words
from safedesk.responders.base import Responder
from safedesk.storage import repository as repo
from safedesk.storage.db import Database
from safedesk.storage.models import Conversation, Message
from safedesk.vault import Vault
from safedesk.verification import VerificationDesk


def clean_text(text: str) -> str:
    """Drop what cannot be stored or shown: lone surrogates and NUL; keep everything else."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


@dataclass
class _Turn:
    """Mutable working state of one turn (internal to the pipeline)."""

    conversation_id: str
    text: str
    findings: list[Finding] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    explanation: list[str] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def audit(self, kind: str, data: dict[str, Any]) -> None:
        """Record an audit event; the pipeline writes a turn's events together (one chain-head lock)."""
        self.events.append((kind, data))


log = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _complete_sentences(text: str) -> tuple[list[str], str]:
    """Split off the complete sentences of a growing text; the unfinished rest is returned apart."""
    parts = _SENTENCE_END.split(text)
    done = [p.strip() for p in parts[:-1] if p.strip()]
    return done, parts[-1]


def _done_event(result: TurnResult) -> dict[str, Any]:
    return {
        "type": "done",
        "message_id": result.message_id,
        "reply_id": result.reply_id,
        "reply": result.reply,
        "lane": result.lane.value,
        "topic": result.topic.value,
        "held_for_review": result.held_for_review,
        "sources": list(result.sources),
    }


CLAIM_WAIT_SECONDS = 15.0  # how long a racing retry waits for the original's reply
TURN_LOCK_SECONDS = 60.0  # how long a turn waits for the conversation's previous turn
STALE_CLAIM_SECONDS = 120.0  # a message "processing" longer than this was abandoned (worker died)


@dataclass(frozen=True)
class _PendingAnswer:
    """An answer-lane turn waiting for its responder (called outside any transaction)."""

    decision: Decision
    request: ResponderRequest
    verified_customer_id: str | None = None


class TurnPipeline:
    def __init__(
        self,
        config: DeskConfig,
        db: Database,
        vault: Vault,
        knowledge: KnowledgeBase,
        responder: Responder,
        inbound: Sequence[Guard],
        outbound: Sequence[Guard],
        canaries: Callable[[], tuple[str, ...]] = tuple,
        pseudonymizer: Pseudonymizer | None = None,
        verifier: VerificationDesk | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.vault = vault
        self.knowledge = knowledge
        self._published: tuple[tuple[str, str], PublishedNames] | None = None
        self.responder = responder
        self.inbound = list(inbound)
        self.outbound = list(outbound)
        self.canaries = canaries
        self.pseudonymizer = pseudonymizer or Pseudonymizer()
        self.verifier = verifier
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="guard")
        self._refreshed_at = 0.0

    # ---- the turn ---------------------------------------------------------------------------

    @contextmanager
    def _one_turn_at_a_time(self, conversation_id: str) -> Iterator[None]:
        """One turn of a conversation at a time, in every worker: replies stay in order, the disclosure is
        added once, placeholders are numbered once, and a retry waits for its original's reply."""
        with self.db.turn_lock(conversation_id, TURN_LOCK_SECONDS) as acquired:
            if not acquired:
                raise TurnInProgress("another message of this conversation is being answered; retry with the same key")
            yield

    def run(
        self, conversation_id: str, text: str, *, channel: str = "api", idempotency_key: str | None = None
    ) -> TurnResult:
        with self._one_turn_at_a_time(conversation_id):
            return self._run(conversation_id, text, channel, idempotency_key)

    def _run(self, conversation_id: str, text: str, channel: str, idempotency_key: str | None) -> TurnResult:
        started = time.perf_counter()
        turn, message_id, previous = self._begin(conversation_id, text, channel, idempotency_key)
        if previous is not None:
            return previous
        decided = self._decide(turn, message_id, channel, started)
        if isinstance(decided, TurnResult):
            return decided
        # The responder runs outside any transaction: a model call takes seconds, and the database
        # (SQLite's single writer above all) must not wait for it.
        t0 = time.perf_counter()
        draft = self.responder.respond(decided.request)
        turn.timings["responder"] = (time.perf_counter() - t0) * 1000
        return self._complete(turn, message_id, channel, decided, draft, started)

    def run_streaming(
        self, conversation_id: str, text: str, *, channel: str = "api", idempotency_key: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Like `run`, but yields the answer as it is generated, when the responder can stream.

        Events: `{"type": "delta", "text": ...}` for whole sentences that already passed every outbound
        guard (guarded together with everything released before them), then one `{"type": "done", ...}`
        with the final, stored reply. When a sentence fails a guard, streaming stops there and the whole
        draft goes through the same deliver / hold / replace decision as in `run`; `done.reply` is then
        what the customer must see instead of the streamed sentences. Nothing is yielded inside a
        transaction (the consumer may be slow, and SQLite has one writer)."""
        with self._one_turn_at_a_time(conversation_id):
            yield from self._run_streaming(conversation_id, text, channel, idempotency_key)

    def _run_streaming(
        self, conversation_id: str, text: str, channel: str, idempotency_key: str | None
    ) -> Iterator[dict[str, Any]]:
        started = time.perf_counter()
        turn, message_id, previous = self._begin(conversation_id, text, channel, idempotency_key)
        if previous is not None:
            yield _done_event(previous)
            return
        decided = self._decide(turn, message_id, channel, started)
        if isinstance(decided, TurnResult):
            yield _done_event(decided)
            return
        stream = getattr(self.responder, "stream_text", None)
        t0 = time.perf_counter()
        if stream is None:
            draft = self.responder.respond(decided.request)
        else:
            draft = yield from self._stream_draft(stream, decided, turn, t0)
        turn.timings["responder"] = (time.perf_counter() - t0) * 1000
        yield _done_event(self._complete(turn, message_id, channel, decided, draft, started))

    def _decide(self, turn: _Turn, message_id: int, channel: str, started: float) -> TurnResult | _PendingAnswer:
        """Inbound guards, redaction, policy and (answer lane) retrieval, in one transaction. Every lane
        but `answer` is delivered here; an answer returns pending, for a responder outside the transaction."""
        with self.db.session() as session:
            conversation = repo.get_or_create_conversation(session, turn.conversation_id, channel)
            # The conversation row before the audit head, as every writer takes them: no deadlock with a
            # staff reply; and the row as it is now (a staff member may have just taken it over).
            repo.lock_conversation(session, turn.conversation_id)
            message = session.get(Message, message_id)
            assert message is not None
            outcome = self._process(session, turn, message, handed_off=conversation.status == "human")
            if isinstance(outcome, _PendingAnswer) and getattr(self.responder, "in_process", False):
                # A responder without I/O (approved answers, microseconds): no need for a second transaction.
                t0 = time.perf_counter()
                draft = self.responder.respond(outcome.request)
                turn.timings["responder"] = (time.perf_counter() - t0) * 1000
                outcome = self._finish_answer(session, turn, message, outcome, draft)
            if isinstance(outcome, TurnResult):
                return self._deliver(session, turn, conversation, message_id, outcome, started)
            self._flush_audit(session, turn)
            return replace(outcome, verified_customer_id=conversation.verified_customer_id)

    def _complete(
        self, turn: _Turn, message_id: int, channel: str, pending: _PendingAnswer, draft: Draft, started: float
    ) -> TurnResult:
        """Outbound guards on the draft and delivery, in a second transaction."""
        with self.db.session() as session:
            conversation = repo.get_or_create_conversation(session, turn.conversation_id, channel)
            repo.lock_conversation(session, turn.conversation_id)  # before the audit head, as in `_decide`
            message = session.get(Message, message_id)
            assert message is not None
            result = self._finish_answer(session, turn, message, pending, draft)
            return self._deliver(session, turn, conversation, message_id, result, started)

    def _stream_draft(
        self, stream: Callable[[ResponderRequest], Iterator[str]], pending: _PendingAnswer, turn: _Turn, t0: float
    ) -> Generator[dict[str, Any], None, Draft]:
        """Release the model's sentences one by one, each only after the outbound guards passed the
        text released so far plus that sentence; stop at the first that does not pass."""
        request = pending.request
        ctx = self._outbound_context(turn, request.chunks, pending.verified_customer_id)
        released, unfinished = "", ""
        guard_ms = 0.0
        draft_from = self.responder.draft_from  # type: ignore[attr-defined]
        deltas = stream(request)
        try:
            for delta in deltas:
                unfinished += delta
                sentences, unfinished = _complete_sentences(unfinished)
                for sentence in sentences:
                    candidate = f"{released} {sentence}".strip()
                    g0 = time.perf_counter()
                    scratch = _Turn(turn.conversation_id, turn.text)
                    verdict = review_draft(self._run_guards(self.outbound, candidate, ctx, scratch, "stream"))
                    guard_ms += (time.perf_counter() - g0) * 1000
                    if verdict.action is not DraftAction.DELIVER:
                        return draft_from(candidate, request)
                    if not released:
                        turn.timings["first_sentence"] = (time.perf_counter() - t0) * 1000
                    released = candidate
                    yield {"type": "delta", "text": placeholders_in_words(sentence) + " "}
        except ResponderError as exc:
            return self.responder.fallback_draft(request, str(exc))  # type: ignore[attr-defined]
        finally:
            turn.timings["stream_guards"] = guard_ms
            close = getattr(deltas, "close", None)
            if close is not None:  # stopping early closes the model's stream: no more generation
                close()
        return draft_from(f"{released} {unfinished}".strip(), request)

    def _begin(
        self, conversation_id: str, text: str, channel: str, idempotency_key: str | None
    ) -> tuple[_Turn, int, TurnResult | None]:
        """Persist the inbound message (or find it again on a retry) and claim it for processing.
        Returns the turn, the message id, and the stored result when the message was answered already."""
        text = clean_text(text)
        turn = _Turn(conversation_id, text)

        # 1. Persist the inbound message before anything else, so a crash loses nothing.
        with self.db.session() as session:
            message, created = repo.record_inbound(
                session, conversation_id, self.vault.encrypt(text), idempotency_key, channel
            )
            if created:
                audit.append(
                    session,
                    "turn.received",
                    conversation_id=conversation_id,
                    data={"message": message.id, "chars": len(text), "channel": channel},
                )
            message_id = message.id
            if not created and self.vault.decrypt(message.original_encrypted) != text:
                # A retry carries the same text; different text under a used key is a client bug that
                # would otherwise drop the new message silently (the stored reply to the old one comes back).
                raise IdempotencyConflict(
                    "this idempotency key was already used for a different message; use a new key for a new message"
                )
        if not created:
            previous = self._previous_result(conversation_id, message_id)
            if previous is not None:
                return turn, message_id, previous
        if not created and not self._claim(message_id):
            # Another worker is processing this very message (a retry racing its original): wait for
            # its reply rather than produce a second one.
            deadline = time.monotonic() + CLAIM_WAIT_SECONDS
            while time.monotonic() < deadline:
                time.sleep(0.2)
                previous = self._previous_result(conversation_id, message_id)
                if previous is not None:
                    return turn, message_id, previous
            raise TurnInProgress("this message is still being answered; retry with the same idempotency key")

        return turn, message_id, None

    def _deliver(
        self,
        session: Session,
        turn: _Turn,
        conversation: Conversation,
        message_id: int,
        result: TurnResult,
        started: float,
    ) -> TurnResult:
        """Store the reply the customer gets, with the AI disclosure on a conversation's first one and
        whenever the customer asks whether they are talking to a person or a machine."""
        first_reply = not conversation.disclosed
        if first_reply or asks_if_human(turn.text):
            result.reply = f"{self.config.disclosure_text()}\n\n{result.reply}".rstrip()
        reply = repo.add_message(
            session,
            turn.conversation_id,
            Role.ASSISTANT,
            result.reply,
            status="delivered",
            lane=result.lane.value,
            topic=result.topic.value,
            reply_to=message_id,
            findings=[f.to_contract() for f in result.findings],
            sources=list(result.sources),
        )
        repo.touch(conversation, disclosed=True, last_lane=result.lane.value, last_topic=result.topic.value)
        result.message_id, result.reply_id = message_id, reply.id
        turn.timings["total"] = (time.perf_counter() - started) * 1000
        result.timings_ms = dict(turn.timings)
        turn.audit(
            "turn.replied",
            {
                "message": message_id,
                "reply": reply.id,
                "lane": result.lane.value,
                "held": result.held_for_review,
                "disclosed": first_reply,
            },
        )
        self._flush_audit(session, turn)
        return result

    def _process(
        self, session: Session, turn: _Turn, message: Message, *, handed_off: bool
    ) -> TurnResult | _PendingAnswer:
        cid = turn.conversation_id
        limit = self.config.limits.max_message_chars
        if len(turn.text) > limit:
            message.status = "processed"
            message.text = f"[message of {len(turn.text)} characters, kept for staff: use Reveal originals to read it]"
            repo.touch(message.conversation, status="human")
            repo.open_task(session, cid, "handoff", "message too long for the assistant", message.id)
            finding = Finding(
                "input", "input", 1.0, f"message of {len(turn.text)} characters (limit {limit})", label="too_long"
            )
            turn.audit("turn.too_long", {"message": message.id})
            return self._result(
                turn,
                Decision(Lane.HUMAN, Topic.OTHER, ("too long",)),
                replies.TOO_LONG.format(length=len(turn.text), limit=limit) + replies.staff_availability(self.config),
                [finding],
            )
        if not turn.text.strip():
            message.status = "processed"
            return self._result(turn, Decision(Lane.ANSWER, Topic.OTHER, ("empty message",)), replies.EMPTY)

        # 2. Inbound guards see the message; 3. PII is redacted before any responder sees it.
        ctx = GuardContext(
            conversation_id=cid,
            stage=Stage.INBOUND,
            business_name=self.config.business.name,
            published=self._published_names(),
        )
        turn.findings = self._run_guards(self.inbound, turn.text, ctx, turn, "inbound")
        redacted = self._redact(session, turn)
        if self.verifier is not None:  # a live one-time code never reaches a model, staff, or the database
            redacted = self.verifier.mask_awaited_code(session, cid, turn.text, redacted)
        message.text, message.status = redacted, "processed"

        # 4. Policy decides the lane from findings, outside any model.
        decision = decide(turn.findings, turn.text, self.config.policy, handed_off=handed_off)
        message.lane, message.topic = decision.lane.value, decision.topic.value
        message.findings = [f.to_contract() for f in turn.findings]
        turn.explanation += [f"policy: {r}" for r in decision.reasons]
        turn.audit(
            "turn.decided",
            {
                "message": message.id,
                "lane": decision.lane.value,
                "topic": decision.topic.value,
                "findings": [f"{f.guard}:{f.kind}:{f.label}" for f in turn.findings],
                "reasons": list(decision.reasons),
            },
        )

        # Identity verification: codes to the contact on file, verified lookups, staff tasks.
        # A hand-off that only the router's topic asked for: the verifier may still take a bare "resend".
        if self.verifier is not None and self.verifier.should_handle(
            session, cid, turn.text, decision.lane, topic_only=decision.routed_by_topic_only
        ):
            return self._verify(session, turn, message, decision, redacted)
        if decision.lane is Lane.ANSWER:
            return self._prepare_answer(session, turn, message, decision, redacted)
        if decision.lane is Lane.HUMAN:
            repo.touch(message.conversation, status="human")
            # "with staff" says nothing new to the person reading the hand-off: keep its original reasons
            why = [r for r in decision.reasons if r != WITH_STAFF] or list(decision.reasons)
            repo.open_task(session, cid, "handoff", "; ".join(why), message.id, {"topic": decision.topic.value})
            text = replies.already_with_staff(self.config) if handed_off else replies.handoff(self.config)
            if any(f.kind == "guard_error" for f in turn.findings):
                text = replies.GUARD_FAILURE + replies.staff_availability(self.config)
            return self._result(turn, decision, text)
        if decision.lane is Lane.VERIFY:
            repo.open_task(
                session,
                cid,
                "verification",
                f"{decision.topic.value}: identity must be verified",
                message.id,
                {"topic": decision.topic.value},
            )
            return self._result(turn, decision, replies.verify_needed(self.config))
        # REFUSE: a fixed reply that says nothing about why (the refusal never leaks), flagged for staff.
        repo.touch(message.conversation, flagged=True)
        repo.open_task(session, cid, "attack", "; ".join(decision.reasons), message.id)
        return self._result(turn, decision, replies.REFUSAL)

    def _prepare_answer(
        self, session: Session, turn: _Turn, message: Message, decision: Decision, redacted: str
    ) -> _PendingAnswer:
        """Retrieve public chunks and build the responder's request (the model is called after commit)."""
        t0 = time.perf_counter()
        self._refresh_knowledge()
        chunks = tuple(self.knowledge.retriever.search(redacted, k=3))
        turn.timings["retrieve"] = (time.perf_counter() - t0) * 1000
        request = ResponderRequest(
            text=redacted,
            history=repo.history(session, turn.conversation_id, message.id),
            chunks=chunks,
            business_name=self.config.business.name,
            rules=self.config.disclosure_text(),
        )
        return _PendingAnswer(decision, request)

    def _finish_answer(
        self, session: Session, turn: _Turn, message: Message, pending: _PendingAnswer, draft: Draft
    ) -> TurnResult:
        """Outbound guards on the draft, then deliver, hold or replace it."""
        cid = turn.conversation_id
        decision, request = pending.decision, pending.request
        redacted, chunks = request.text, request.chunks
        if draft.fallback_reason:
            repo.touch(message.conversation, flagged=True)
            turn.findings.append(Finding(self.responder.name, "responder_fallback", 1.0, draft.fallback_reason))
            turn.audit("turn.responder_fallback", {"message": message.id, "reason": draft.fallback_reason})
        turn.explanation.append(
            f"responder {draft.responder or self.responder.name}: "
            f"{'confident' if draft.confident else 'not confident'}; "
            f"sources {list(draft.sources) or 'none'}"
        )
        if not draft.confident:
            # "Are you a bot?" has no answer in the shop's pages: the disclosure `_deliver` adds is the answer.
            text = "" if asks_if_human(turn.text) else draft.text
            return self._result(turn, decision, text, llm_input=redacted)

        ctx = self._outbound_context(turn, chunks, message.conversation.verified_customer_id)
        outbound = self._run_guards(self.outbound, draft.text, ctx, turn, "outbound")
        verdict = review_draft(outbound)
        turn.findings += outbound
        turn.audit(
            "turn.outbound", {"message": message.id, "action": verdict.action.value, "reasons": list(verdict.reasons)}
        )
        if verdict.action is DraftAction.DELIVER:
            text = placeholders_in_words(draft.text)  # "Hi <PERSON_1>" reads "Hi"; nothing is restored
            return self._result(turn, decision, text, llm_input=redacted, sources=list(draft.sources))
        approved = self._approved_instead(session, turn, message, request, ctx, verdict)
        if approved is not None:
            return self._result(turn, decision, approved.text, llm_input=redacted, sources=list(approved.sources))

        repo.touch(message.conversation, flagged=True)
        if verdict.action is DraftAction.HOLD:
            held = repo.add_message(
                session,
                cid,
                Role.ASSISTANT,
                draft.text,
                status="held",
                lane=decision.lane.value,
                topic=decision.topic.value,
                reply_to=message.id,
                findings=[f.to_contract() for f in outbound],
                sources=list(draft.sources),
            )
            repo.open_task(session, cid, "held_draft", "; ".join(verdict.reasons), held.id)
            text = replies.HELD + replies.staff_availability(self.config)
            result = self._result(turn, decision, text, llm_input=redacted)
            result.held_for_review = True
            return result
        repo.open_task(
            session,
            cid,
            "attack" if any(f.kind == "leak" for f in outbound) else "handoff",
            "; ".join(verdict.reasons),
            message.id,
            {"blocked_draft": draft.text[:2000]},
        )
        text = replies.UNSAFE_DRAFT if any(f.kind == "leak" for f in outbound) else replies.UNSURE
        return self._result(turn, decision, text + replies.staff_availability(self.config), llm_input=redacted)

    def _verify(self, session: Session, turn: _Turn, message: Message, decision: Decision, redacted: str) -> TurnResult:
        """Hand the turn to the verification desk. It reads identifiers and codes from the ORIGINAL text,
        writes its own staff tasks and audit events, and never gives customer records to a model."""
        assert self.verifier is not None
        t0 = time.perf_counter()
        self._flush_audit(session, turn)  # keep the chain in order: the verifier writes its own events
        outcome = self.verifier.handle(
            session, turn.conversation_id, turn.text, decision.topic, redacted=redacted, message_id=message.id
        )
        turn.timings["verify"] = (time.perf_counter() - t0) * 1000
        if outcome.stored_text is not None:
            message.text = outcome.stored_text  # a typed code is never stored in clear
        message.lane, message.topic = outcome.lane.value, outcome.topic.value
        turn.explanation.append(
            f"verification: {outcome.stage.value}; {', '.join(kind for kind, _ in outcome.events) or 'no events'}"
        )
        text = outcome.reply
        if outcome.lane is Lane.HUMAN:
            text = f"{text} {replies.staff_availability(self.config)}"
            # The customer is told a person will help: make sure one sees the conversation, also when the
            # verification's own task (a lock, a lost-access hand-off) was closed before they wrote again.
            repo.touch(message.conversation, status="human")
            if not repo.has_open_task(session, turn.conversation_id):
                repo.open_task(
                    session,
                    turn.conversation_id,
                    "handoff",
                    f"verification {outcome.stage.value.replace('_', ' ')}; the customer wrote again",
                    message.id,
                    {"topic": outcome.topic.value},
                )
        return self._result(turn, Decision(outcome.lane, outcome.topic, decision.reasons), text)

    def _outbound_context(
        self, turn: _Turn, chunks: tuple[RetrievedChunk, ...], verified_customer_id: str | None
    ) -> GuardContext:
        return GuardContext(
            conversation_id=turn.conversation_id,
            stage=Stage.OUTBOUND,
            business_name=self.config.business.name,
            sources=chunks,
            customer_text=turn.text,
            protected_chunks=tuple(self.knowledge.protected_chunks),
            canaries=self.canaries(),
            verified_customer_id=verified_customer_id,
        )

    def _approved_instead(
        self,
        session: Session,
        turn: _Turn,
        message: Message,
        request: ResponderRequest,
        ctx: GuardContext,
        verdict: DraftVerdict,
    ) -> Draft | None:
        """A model's unsupported (not leaking, not promising) draft: send the approved answer instead,
        if there is a confident one that passes the guards. The conversation stays flagged."""
        fallback = getattr(self.responder, "fallback", None)
        if fallback is None or verdict.action is not DraftAction.REPLACE:
            return None
        if any(f.kind in ("leak", "guard_error") for f in turn.findings):
            return None
        alternative = fallback.respond(request)
        if not alternative.confident:
            return None
        findings = self._run_guards(self.outbound, alternative.text, ctx, turn, "outbound-fallback")
        if review_draft(findings).action is not DraftAction.DELIVER:
            return None
        repo.touch(message.conversation, flagged=True)
        turn.audit(
            "turn.model_draft_replaced", {"message": message.id, "reasons": list(verdict.reasons), "by": fallback.name}
        )
        turn.explanation.append(f"model draft replaced by the {fallback.name} answer: {'; '.join(verdict.reasons)}")
        return alternative

    # ---- stages -------------------------------------------------------------------------------

    def _run_guards(
        self, guards: Sequence[Guard], text: str, ctx: GuardContext, turn: _Turn, stage: str
    ) -> list[Finding]:
        """Run each guard with a timeout; a guard that raises or times out fails closed."""
        findings: list[Finding] = []
        timeout = self.config.guards.timeout_seconds
        for guard in guards:
            t0 = time.perf_counter()
            try:
                found = self._pool.submit(guard.check, text, ctx).result(timeout=timeout)
            except FutureTimeout:
                found = [Finding(guard.name, "guard_error", 1.0, f"did not finish within {timeout:g} s")]
            except Exception as exc:
                found = [Finding(guard.name, "guard_error", 1.0, f"failed: {type(exc).__name__}")]
            turn.timings[f"{stage}.{guard.name}"] = (time.perf_counter() - t0) * 1000
            findings.extend(found)
            for f in found:
                turn.explanation.append(
                    f"{stage} {f.guard}: {f.kind}{'/' + f.label if f.label else ''} ({f.score:.2f}) {f.reason}"
                )
        return findings

    def _redact(self, session: Session, turn: _Turn) -> str:
        """Replace PII with per-conversation placeholders; originals go to the encrypted vault.

        Always runs, even without PII: placeholder look-alikes the customer typed are defused. When a guard
        that finds PII failed, nothing says where the personal data is: the text is not stored in clear at
        all (the original stays encrypted; staff read it through an audited reveal)."""
        failed = {f.guard for f in turn.findings if f.kind == "guard_error"}
        if any(getattr(g, "finds_pii", False) and g.name in failed for g in self.inbound):
            return replies.PII_UNCHECKED
        spans = [(f.label or "PII", f.span[0], f.span[1]) for f in turn.findings if f.kind == "pii" and f.span]
        mapping: dict[str, str] = {}
        if spans:
            entries = repo.vault_entries(session, turn.conversation_id)
            mapping = {self.vault.decrypt(e.ciphertext): e.placeholder for e in entries}
        redaction = self.pseudonymizer.redact(turn.text, spans, mapping)
        for original, placeholder in redaction.new_entries.items():
            entity = placeholder.strip("<>").rsplit("_", 1)[0]
            repo.add_vault_entry(session, turn.conversation_id, placeholder, entity, self.vault.encrypt(original))
        return redaction.text

    def _result(
        self,
        turn: _Turn,
        decision: Decision,
        reply: str,
        findings: list[Finding] | None = None,
        *,
        llm_input: str | None = None,
        sources: list[str] | None = None,
    ) -> TurnResult:
        return TurnResult(
            conversation=turn.conversation_id,
            lane=decision.lane,
            topic=decision.topic,
            reply=reply,
            held_for_review=False,
            llm_input=llm_input,
            sources=sources or [],
            findings=findings if findings is not None else list(turn.findings),
            timings_ms=turn.timings,
            explanation=[*turn.explanation, f"lane {decision.lane.value}"],
        )

    @staticmethod
    def _flush_audit(session: Session, turn: _Turn) -> None:
        if turn.events:
            audit.append_many(session, turn.events, conversation_id=turn.conversation_id)
            turn.events.clear()

    def _claim(self, message_id: int) -> bool:
        """Atomically take a received message for processing, or one whose processor died. Across workers
        (PostgreSQL) the caller holds the conversation's turn lock, so a message left "processing" is
        abandoned now; otherwise only after STALE_CLAIM_SECONDS."""
        stale = datetime.now(UTC) - timedelta(seconds=0 if self.db.turn_locks_span_processes else STALE_CLAIM_SECONDS)
        with self.db.session() as session:
            claimed = session.execute(
                update(Message)
                .where(
                    Message.id == message_id,
                    or_(
                        Message.status == "received",
                        and_(Message.status.in_(("processing", "processed")), Message.created_at < stale),
                    ),
                )
                .values(status="processing")
            )
            return claimed.rowcount == 1

    def _previous_result(self, conversation_id: str, message_id: int) -> TurnResult | None:
        """A retried request (same idempotency key): return the stored reply instead of a second one."""
        with self.db.session() as session:
            message = session.get(Message, message_id)
            reply = repo.reply_to(session, message_id)
            if message is None or reply is None:
                return None
            return TurnResult(
                conversation=conversation_id,
                lane=Lane(reply.lane or "answer"),
                topic=Topic(reply.topic or "other"),
                reply=reply.text,
                held_for_review=repo.has_held_draft(session, message_id),
                llm_input=None,
                sources=list(reply.sources or []),
                findings=[],
                message_id=message_id,
                reply_id=reply.id,
            )

    def _published_names(self) -> PublishedNames:
        """The names on the public pages and the business's name, rebuilt when the knowledge changes."""
        key = (self.knowledge.fingerprint, self.config.business.name)
        cached = self._published
        if cached is None or cached[0] != key:
            cached = (key, PublishedNames.of(self.knowledge.public_chunks, self.config.business.name))
            self._published = cached
        return cached[1]

    def _refresh_knowledge(self) -> None:
        """Re-ingest changed knowledge at most once a second. A broken file empties the public index
        (fail closed: a page the owner meant to hide is never served from a stale index)."""
        now = time.monotonic()
        if now - self._refreshed_at < 1.0:
            return
        self._refreshed_at = now
        try:
            self.knowledge.refresh()
        except SafeDeskError as exc:
            log.warning("knowledge not reloaded, public index emptied until fixed: %s", exc)

    def warm_up(self) -> None:
        """Load every lazily loaded model now (guards, embeddings), so the first customer waits for none.
        A guard that fails here is only logged: in a turn it fails closed."""
        sample = "Hello, I'm Kari Nordmann (kari@example.com, +47 912 34 567). How long does delivery take?"
        chunks = tuple(self.knowledge.retriever.search(sample, k=3))
        contexts = {
            Stage.INBOUND: (sample, GuardContext(conversation_id="warm-up", stage=Stage.INBOUND)),
            Stage.OUTBOUND: (
                "Delivery in Norway takes 2-4 business days.",
                GuardContext(
                    conversation_id="warm-up",
                    stage=Stage.OUTBOUND,
                    sources=chunks,
                    protected_chunks=tuple(self.knowledge.protected_chunks),
                ),
            ),
        }
        for guard in self.inbound + self.outbound:
            text, ctx = contexts[guard.stage]
            future = self._pool.submit(guard.check, text, ctx)
            try:
                future.result(timeout=max(30.0, self.config.guards.timeout_seconds))
            except Exception as exc:  # reported here; in a turn the guard fails closed
                log.warning("guard %s failed its warm-up: %s", guard.name, exc)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.verifier is not None:
            self.verifier.close()
