"""The responder interface: turn a `ResponderRequest` (redacted text + public chunks) into a `Draft`.

A responder never sees anything the pipeline did not put in the request: no customer records, no
non-public knowledge. Its draft is checked by the outbound guards before anyone reads it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from safedesk.domain import Draft, ResponderRequest

__all__ = ["NOT_SURE_TEXT", "Responder"]

# What a responder says when it does not know: no guess, and a person offered instead.
NOT_SURE_TEXT = (
    "I'm not sure about that, and I don't want to guess. If you'd like a member of staff to help, "
    'type "person" and I\'ll pass your question on.'
)


@runtime_checkable
class Responder(Protocol):
    name: str
    # True for a responder that does no I/O and answers in microseconds (approved answers): the
    # pipeline may then call it inside the turn's transaction. A model server is never in-process.
    in_process: bool

    def respond(self, request: ResponderRequest) -> Draft: ...
