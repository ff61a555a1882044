"""The shared vocabulary of SafeDesk. Imports nothing of ours; everything else imports this."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Lane(StrEnum):
    """What the desk does with a customer turn."""

    ANSWER = "answer"  # general info from public knowledge
    VERIFY = "verify"  # about a specific customer's account/order/payment: identity first
    HUMAN = "human"  # a person decides (refunds, disputes, complaints, emotional, asked for)
    REFUSE = "refuse"  # attacks, requests for internal data


class Topic(StrEnum):
    GENERAL_INFO = "general_info"
    ORDER_STATUS = "order_status"
    ORDER_CHANGE = "order_change"
    CANCEL_ORDER = "cancel_order"
    SHIPPING_ADDRESS_CHANGE = "shipping_address_change"
    REFUND = "refund"
    PAYMENT_ISSUE = "payment_issue"
    PAYMENT_METHOD_CHANGE = "payment_method_change"
    ACCOUNT_ACCESS = "account_access"
    ACCOUNT_CHANGE = "account_change"
    DELETE_ACCOUNT_OR_DATA = "delete_account_or_data"
    COMPLAINT = "complaint"
    DISPUTE_OR_LEGAL = "dispute_or_legal"
    HUMAN_REQUEST = "human_request"
    PROBING_OR_ATTACK = "probing_or_attack"
    OTHER = "other"


class Access(StrEnum):
    """Access label of a knowledge file. Only PUBLIC ever reaches a model."""

    PUBLIC = "public"
    INTERNAL = "internal"
    RESTRICTED = "restricted"


class Stage(StrEnum):
    INBOUND = "inbound"  # sees the customer's message
    OUTBOUND = "outbound"  # sees a draft reply before delivery


class Role(StrEnum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    ASSISTANT = "assistant"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a guard noticed.

    `kind` is the family (e.g. "pii", "injection", "topic", "emotion", "leak", "commitment",
    "ungrounded", "guard_error"); `label` the specific value (an entity type, a topic, a leak
    class); `span` the character range in the checked text when it has one.
    """

    guard: str
    kind: str
    score: float
    reason: str
    label: str | None = None
    span: tuple[int, int] | None = None

    def to_contract(self) -> dict[str, object]:
        """The shape `safedesk turn` publishes: {"guard","kind","score","reason"} (+ label)."""
        out: dict[str, object] = {
            "guard": self.guard,
            "kind": self.kind,
            "score": round(float(self.score), 4),
            "reason": self.reason,
        }
        if self.label is not None:
            out["label"] = self.label
        return out


@dataclass(frozen=True, slots=True)
class KnowledgeChunk:
    """A heading-sized piece of a knowledge file, with its provenance and access label."""

    chunk_id: str
    title: str  # the file's title
    heading: str  # the section heading ("" for text before the first heading)
    text: str
    source: str  # file name relative to knowledge/
    access: Access

    @property
    def is_public(self) -> bool:
        return self.access is Access.PUBLIC


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    """A public chunk returned by the retriever, with its fused relevance score (0..1)."""

    chunk: KnowledgeChunk
    score: float

    def __post_init__(self) -> None:
        # Defence in depth: the retriever indexes public chunks only, and this type refuses others.
        if not self.chunk.is_public:
            raise ValueError(f"non-public chunk {self.chunk.chunk_id!r} cannot be retrieved for a model")


@dataclass(frozen=True, slots=True)
class HistoryItem:
    role: Role
    text: str  # always redacted


@dataclass(frozen=True, slots=True)
class ResponderRequest:
    """Everything a responder may see. Built by the pipeline from redacted text and public chunks."""

    text: str  # the customer's redacted message
    history: tuple[HistoryItem, ...]
    chunks: tuple[RetrievedChunk, ...]
    business_name: str
    rules: str = ""  # the business's disclosure and answering rules (plain text)
    language: str = "en"


@dataclass(frozen=True, slots=True)
class Draft:
    """What a responder proposes to say. Not yet delivered: outbound guards check it first."""

    text: str
    sources: tuple[str, ...] = ()  # titles of the chunks the text came from
    confident: bool = True  # False: the responder does not know
    responder: str = ""
    model_seconds: float = 0.0
    fallback_reason: str | None = None  # set when a model failed and another responder answered


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's verdict for an inbound message."""

    lane: Lane
    topic: Topic
    reasons: tuple[str, ...] = ()
    # The lane comes from the topic's mapping alone: no failing guard, attack, request for a person,
    # unreadable text, hand-off in progress or sign of emotion (the verifier may then still take a "resend").
    routed_by_topic_only: bool = False


@dataclass(slots=True)
class TurnResult:
    """The outcome of one customer turn, in the shape the CLI contract publishes."""

    conversation: str
    lane: Lane
    topic: Topic
    reply: str
    held_for_review: bool
    llm_input: str | None
    sources: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    message_id: int | None = None
    reply_id: int | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    explanation: list[str] = field(default_factory=list)

    def to_contract(self, explain: bool = False) -> dict[str, object]:
        out: dict[str, object] = {
            "conversation": self.conversation,
            "lane": self.lane.value,
            "topic": self.topic.value,
            "reply": self.reply,
            "held_for_review": self.held_for_review,
            "llm_input": self.llm_input,
            "sources": list(self.sources),
            "findings": [f.to_contract() for f in self.findings],
        }
        if explain:
            out["explain"] = list(self.explanation)
            out["timings_ms"] = {k: round(v, 3) for k, v in self.timings_ms.items()}
        return out
