"""Rules that span objects. Each raises DomainError with a user-facing message."""

from portal.services.errors import DomainError

__all__ = ["DomainError"]
