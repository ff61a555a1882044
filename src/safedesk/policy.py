"""Policy: from guard findings to a lane, and from outbound findings to deliver / hold / block.

Plain code and safedesk.yaml data, outside any model: a misbehaving model cannot change a lane.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from safedesk.config import PolicyConfig
from safedesk.domain import Decision, Finding, Lane, Topic

# The safety net under the router: an explicit request for a person always reaches one, whatever
# any classifier says. Deliberately narrow (asks for a person), so it cannot be gamed into "answer".
_PERSON = (
    r"(?:human|person|people|agent|someone real|real (?:person|human|someone)|staff|representative|operator|"
    r"member of (?:staff|your team)|customer service rep\w*|menneske|kundeservice|handläggare|människa|mensch)"
)
HUMAN_REQUEST = re.compile(
    rf"^\W*{_PERSON}\W*(?:please|pls|now)?\W*$"
    rf"|\b(?:talk|speak|chat|connect|transfer|put)\w*\b[^.?!]{{0,40}}\b{_PERSON}\b"
    rf"|\b(?:want|need|get|give)\b[^.?!]{{0,20}}\b(?:a|an|some|to a|to an)\s+{_PERSON}\b"
    rf"|\bsnakke med\b[^.?!]{{0,30}}\b(?:et menneske|en person|noen)\b",
    re.IGNORECASE,
)

# "Am I talking to a real person?", "are you a bot?": the answer is always that it is an AI (the pipeline
# repeats the disclosure), whatever else the turn does. English and the Scandinavian languages.
_AGENT = (
    r"(?:(?:a |an |some )?(?:real |actual |live )?"
    r"(?:human|person|people|bot|robot|chat ?bot|ai|a\.i\.|machine|computer|program))"
)
ASKS_IF_HUMAN = re.compile(
    rf"\b(?:are|r) (?:you|u)\b(?: really| actually| even)? (?:{_AGENT}|real)\b"
    rf"|\b(?:am i|are we)\b (?:really |actually )?(?:talking|chatting|speaking|writing|texting) (?:to|with) {_AGENT}\b"
    rf"|\b(?:is this|is that|is it)\b (?:really |actually )?{_AGENT}\b"
    rf"|\b(?:human|person|bot|robot|ai) or (?:a |an )?(?:human|person|bot|robot|ai|machine)\b"
    rf"|\ber (?:du|dette|det) (?:et |en )?(?:ekte |virkelig )?(?:menneske|person|robot|bot|ai|kunstig intelligens)\b"
    rf"|\b(?:snakker|chatter|prater) jeg med (?:et |en )?(?:ekte |virkelig )?(?:menneske|person|robot|bot|ai)\b"
    rf"|\bär du (?:en |ett )?(?:riktig |verklig )?(?:människa|person|robot|bot|ai)\b",
    re.IGNORECASE,
)

BLOCKING_KINDS = frozenset({"guard_error"})
WITH_STAFF = "the conversation is with staff"  # the reason for a message in a conversation already handed off


def asks_for_person(text: str) -> bool:
    return bool(HUMAN_REQUEST.search(text))


def asks_if_human(text: str) -> bool:
    return bool(ASKS_IF_HUMAN.search(text))


def decide(findings: Sequence[Finding], text: str, policy: PolicyConfig, *, handed_off: bool = False) -> Decision:
    """The lane for one inbound message. Order matters: safety first, then people, then routing."""
    reasons: list[str] = []
    topic = _topic(findings)

    errors = [f for f in findings if f.kind in BLOCKING_KINDS]
    if errors:
        return Decision(Lane.HUMAN, topic, (*tuple(f"{f.guard}: {f.reason}" for f in errors), "failing closed"))

    attacks = [f for f in findings if f.kind == "injection"]
    if attacks:
        best = max(attacks, key=lambda f: f.score)
        return Decision(Lane.REFUSE, Topic.PROBING_OR_ATTACK, (f"{best.guard}: {best.reason}",))

    if asks_for_person(text):
        return Decision(Lane.HUMAN, Topic.HUMAN_REQUEST, ("the customer asked for a person",))

    # Guards that cannot read a message cannot vouch for it: a person answers, no model sees it.
    unreadable = [f for f in findings if f.kind == "unreadable_language"]
    if unreadable:
        return Decision(Lane.HUMAN, topic, (f"{unreadable[0].guard}: {unreadable[0].reason}",))

    if handed_off:  # a person answers; still say what this message adds (the inbox gathers the reasons)
        emotional = [f for f in findings if f.kind == "emotion"]
        extra = (f"{emotional[0].guard}: {emotional[0].reason}",) if emotional else ()
        return Decision(Lane.HUMAN, topic, (WITH_STAFF, *extra))

    lane = policy.lane_for(topic)
    reasons.append(f"topic {topic.value} -> {lane.value}")
    emotional = [f for f in findings if f.kind == "emotion"]
    if emotional and policy.emotional_to_human and lane in (Lane.ANSWER, Lane.VERIFY):
        lane = Lane.HUMAN
        reasons.append(f"{emotional[0].guard}: {emotional[0].reason} -> a person")
    by_topic_only = not emotional and topic is not Topic.HUMAN_REQUEST
    return Decision(lane, topic, tuple(reasons), routed_by_topic_only=by_topic_only)


def _topic(findings: Sequence[Finding]) -> Topic:
    topics = [f for f in findings if f.kind == "topic" and f.label]
    if not topics:
        return Topic.OTHER
    best = max(topics, key=lambda f: f.score)
    try:
        return Topic(best.label)
    except ValueError:
        return Topic.OTHER


class DraftAction(StrEnum):
    DELIVER = "deliver"
    HOLD = "hold"  # a person must confirm: commitments
    REPLACE = "replace"  # unsafe or unsupported: send a safe reply instead, flag for staff


@dataclass(frozen=True, slots=True)
class DraftVerdict:
    action: DraftAction
    reasons: tuple[str, ...]
    flag: bool  # the conversation needs staff attention


def review_draft(findings: Sequence[Finding]) -> DraftVerdict:
    """Outbound: leaks and guard failures are replaced, commitments are held, unsupported text is replaced."""
    leaks = [f for f in findings if f.kind in ("leak", "guard_error")]
    if leaks:
        return DraftVerdict(DraftAction.REPLACE, tuple(f"{f.guard}: {f.reason}" for f in leaks), True)
    commitments = [f for f in findings if f.kind == "commitment"]
    if commitments:
        return DraftVerdict(DraftAction.HOLD, tuple(f"{f.guard}: {f.reason}" for f in commitments), True)
    ungrounded = [f for f in findings if f.kind == "ungrounded"]
    if ungrounded:
        return DraftVerdict(DraftAction.REPLACE, tuple(f"{f.guard}: {f.reason}" for f in ungrounded), True)
    return DraftVerdict(DraftAction.DELIVER, (), False)
