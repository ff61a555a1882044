"""The desk's own wording for replies no model writes: hand-offs, refusals, verification, fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime

from safedesk.config import DeskConfig


def staff_availability(config: DeskConfig, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    hours = config.business.hours_sentence()
    if config.business.is_open(now):
        return f"Our staff are available now and will reply here shortly (hours: {hours})."
    return f"Our staff are not in right now; they will reply here when we open (hours: {hours})."


def handoff(config: DeskConfig) -> str:
    return "I've passed your conversation to a member of our team. " + staff_availability(config)


def already_with_staff(config: DeskConfig) -> str:
    return "Your conversation is with our team, and a person will reply here. " + staff_availability(config)


def verify_needed(config: DeskConfig) -> str:
    return (
        "I can't look up or change account, order or payment details in this chat until we have confirmed "
        "who you are. A member of our team will help you with that. " + staff_availability(config)
    )


# Stored (and shown to staff) instead of a message whose personal data could not be found and redacted.
PII_UNCHECKED = "[not shown: the personal-data check failed on this message; use Reveal to read the original]"

REFUSAL = (
    "Sorry, I can't help with that request. I can answer questions about our products, orders, shipping, "
    "returns and opening hours, or pass you to a member of staff."
)

TOO_LONG = (
    "That message is longer than I can handle here ({length} characters; the limit is {limit}). "
    "I've kept it and passed it to a member of our team. "
)

EMPTY = "I didn't catch a question there. What can I help you with?"

UNSAFE_DRAFT = "I'm sorry, I can't give you a reliable answer to that here. A member of our team will follow up. "

UNSURE = "I'm not sure about that, and I don't want to guess. A member of our team will follow up. "

HELD = "A member of our team needs to confirm the answer to this before I can send it; they will reply here. "

GUARD_FAILURE = "I couldn't check your message safely just now, so I've passed it to a member of our team. "
