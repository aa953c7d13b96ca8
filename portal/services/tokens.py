"""Single-use, expiring tokens for confirmation and reset links."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from portal.clock import utcnow
from portal.extensions import db
from portal.models import AuthToken, User

CONFIRM = "confirm"
RESET = "reset"
LIFETIMES = {CONFIRM: timedelta(hours=48), RESET: timedelta(hours=1)}


class TokenInvalid(Exception):
    """Unknown, malformed, used or expired."""


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(user: User, purpose: str) -> str:
    """Create a token; earlier unused tokens of the same purpose stop working."""
    now = utcnow()
    db.session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.purpose == purpose, AuthToken.used_at.is_(None))
        .values(used_at=now)
    )
    raw = secrets.token_urlsafe(32)
    db.session.add(
        AuthToken(user_id=user.id, purpose=purpose, token_hash=_digest(raw), expires_at=now + LIFETIMES[purpose])
    )
    return raw


def find_token(raw: str, purpose: str, lock: bool = False) -> AuthToken:
    if not raw or len(raw) > 200:
        raise TokenInvalid()
    query = select(AuthToken).where(AuthToken.token_hash == _digest(raw), AuthToken.purpose == purpose)
    if lock:
        query = query.with_for_update(of=AuthToken)
    token = db.session.scalars(query).first()
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        raise TokenInvalid()
    return token


def use_token(raw: str, purpose: str) -> User:
    """Mark the token used (locked, so a double click cannot use it twice) and return its user."""
    token = find_token(raw, purpose, lock=True)
    token.used_at = utcnow()
    return token.user
