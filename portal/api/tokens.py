"""Personal access tokens: made and revoked on the profile, shown once, stored as their SHA-256 only."""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import ApiToken, User
from portal.services.errors import DomainError

# "cpt_" (consultation portal token) makes a leaked token easy to recognise, e.g. by secret scanners.
TOKEN_START = "cpt_"
PREFIX_LENGTH = 12  # what the profile shows of a token: its start and 8 random characters
NAME_MAX = 64
MAX_ACTIVE = 20
RAW_MAX = 200
# Writing the last-used time on every request would turn each read into a write: once a minute is plenty.
TOUCH_EVERY = timedelta(minutes=1)


def digest(raw: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new named token of the user and its value, which is never shown again (caller commits)."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_l("Give the token a name."), field="name")
    if len(name) > NAME_MAX:
        raise DomainError(_l("Use at most 64 characters."), field="name")
    if count_active(user) >= MAX_ACTIVE:
        raise DomainError(_l("You have 20 tokens: revoke one before creating another."), field="name")
    raw = TOKEN_START + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=digest(raw), prefix=raw[:PREFIX_LENGTH])
    db.session.add(token)
    return token, raw


def count_active(user: User) -> int:
    """How many tokens of the user still work."""
    return db.session.scalar(
        select(func.count(ApiToken.id)).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )


def active_tokens(user: User) -> list[ApiToken]:
    """The user's working tokens, newest first (at most MAX_ACTIVE)."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
            .limit(MAX_ACTIVE)
        )
    )


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Stop one of the user's tokens at once (caller commits); anyone else's is refused like a missing one."""
    token = db.session.scalars(
        select(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .with_for_update()
    ).first()
    if token is None:
        raise DomainError(_l("This token does not exist or is already revoked."))
    token.revoked_at = utcnow()
    return token


def find_active(raw: str) -> ApiToken | None:
    """The working token with this value, with its user (one query), or None."""
    if not raw or len(raw) > RAW_MAX:
        return None
    return db.session.scalars(
        select(ApiToken)
        .options(joinedload(ApiToken.user, innerjoin=True))
        .where(ApiToken.token_hash == digest(raw), ApiToken.revoked_at.is_(None))
    ).first()


def touch(token: ApiToken, now: datetime) -> None:
    """Remember that the token was used now, at most once a minute (commits that alone)."""
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    db.session.commit()
