"""Moderation: admins block and unblock accounts; every effective action is logged."""

from sqlalchemy import select

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import ModerationLog, User
from portal.services.errors import DomainError, Missing
from portal.services.lifecycle import release_consultations


class UserMissing(Missing):
    """The user to act on does not exist."""


class ConfirmationNeeded(DomainError):
    """Blocking another admin needs an explicit confirmation."""

    def __init__(self, user: User):
        super().__init__(_l("%(username)s is an administrator. Confirm to block this account.", username=user.label))
        self.user = user


def lock_pair(admin: User, user_id: int) -> User:
    """Lock the acting admin's and the target's rows (in id order, so two admins never deadlock)."""
    rows = db.session.scalars(
        select(User)
        .where(User.id.in_({admin.id, user_id}))
        .order_by(User.id)
        # FOR NO KEY UPDATE, so that a request holding a slot can still write an email that refers to the
        # specialist (FOR KEY SHARE) while the block waits for that slot.
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()
    by_id = {row.id: row for row in rows}
    if by_id.get(admin.id) is None or by_id[admin.id].role != "admin" or by_id[admin.id].is_blocked:
        # An admin blocked a moment ago by another admin acts no more.
        raise DomainError(_l("Your account is blocked"))
    user = by_id.get(user_id)
    if user is None:
        raise UserMissing(_l("There is no such user."))
    return user


def block_user(admin: User, user_id: int, reason: str | None = None, confirmed: bool = False) -> User:
    """Block an account: it can no longer log in and all its sessions end; a specialist's pending requests are
    rejected and their future accepted consultations cancelled, each client emailed once (caller commits)."""
    if admin.id == user_id:
        raise DomainError(_l("You cannot block your own account."))
    user = lock_pair(admin, user_id)
    if user.is_blocked:
        raise DomainError(_l("%(username)s is already blocked.", username=user.label))
    if user.role == "admin" and not confirmed:
        raise ConfirmationNeeded(user)
    reason = (reason or "").strip() or None
    user.is_blocked = True
    user.blocked_reason = reason
    user.rotate_session_token()
    db.session.add(ModerationLog(admin_id=admin.id, user_id=user.id, action="block", reason=reason))
    if user.role == "specialist":
        release_consultations(user)
    return user


def unblock_user(admin: User, user_id: int) -> User:
    """Unblock an account: it may log in again; sessions ended by the block stay ended, and consultations the
    block ended stay ended (caller commits)."""
    user = lock_pair(admin, user_id)
    if not user.is_blocked:
        raise DomainError(_l("%(username)s is not blocked.", username=user.label))
    user.is_blocked = False
    user.blocked_reason = None
    user.rotate_session_token()
    db.session.add(ModerationLog(admin_id=admin.id, user_id=user.id, action="unblock"))
    return user
