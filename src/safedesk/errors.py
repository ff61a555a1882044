"""SafeDesk's exception hierarchy, in one place. The CLI turns `UserError`s into exit code 2."""


class SafeDeskError(Exception):
    """Base of every error SafeDesk raises on purpose."""


class UserError(SafeDeskError):
    """Something the user can fix: bad input, bad config, missing directory."""


class ConfigError(UserError):
    """safedesk.yaml (or a knowledge file's front matter) is invalid."""


class InputError(UserError):
    """A message or request is malformed, oversized or otherwise unusable."""


class ProjectNotFound(UserError):
    """The business directory does not exist or has no safedesk.yaml."""


class TurnInProgress(SafeDeskError):
    """The same message is being answered by another worker right now; retry with the same key."""


class IdempotencyConflict(SafeDeskError):
    """An idempotency key that already belongs to a different message in this conversation."""


class GuardFailure(SafeDeskError):
    """A guard raised or timed out. The pipeline fails closed on it."""


class ResponderError(SafeDeskError):
    """A responder could not produce a draft (timeout, bad output, dead server)."""


class VerificationError(SafeDeskError):
    """Identity verification could not proceed (locked, expired, rate-limited)."""
