"""The one error type services raise for a refusal a person should read."""


class DomainError(Exception):
    """A refusal with a message for the user, optionally tied to a form field."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class Missing(DomainError):
    """A refusal because the object to act on does not exist (a 404 on the pages)."""


class StateConflict(DomainError):
    """A refusal because someone else changed the object first (another request was accepted, this one answered)."""
