"""Accounts: registration, confirmation, login, password reset and change."""

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from portal.clock import utcnow
from portal.devices import NO_DEVICES, Devices
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import User
from portal.outbox import page_path, queue_email
from portal.security import DUMMY_HASH, hash_password, verify_password
from portal.services import throttle, tokens
from portal.services.errors import DomainError

SELF_REGISTER_ROLES = ("client", "specialist")


def find_by_login(login: str) -> User | None:
    """A user by username or email, ignoring case."""
    login = login.strip().lower()
    if not login:
        return None
    return db.session.scalars(
        select(User).where(or_(func.lower(User.username) == login, func.lower(User.email) == login))
    ).first()


def find_by_email(email: str) -> User | None:
    """A user by email, ignoring case."""
    return db.session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()


def _check_unique(username: str, email: str) -> User | None:
    """Refuse a taken username (usernames are public); return the owner of a taken address, never revealed."""
    taken = db.session.scalars(
        select(User).where(or_(func.lower(User.username) == username.lower(), func.lower(User.email) == email.lower()))
    ).all()
    if any(user.username.lower() == username.lower() for user in taken):
        raise DomainError(_l("This username is taken."), field="username")
    return next((user for user in taken if user.email.lower() == email.lower()), None)


def register(*, username, email, password, role, timezone, locale, specialty=None, bio=None, display_name=None):
    """Create an unconfirmed account and queue its confirmation email (caller commits).

    An address that already has an account answers the same (the caller cannot tell): nothing is created
    and its owner is emailed instead. Returns the new user, or None in that case.
    """
    if role not in SELF_REGISTER_ROLES:
        raise DomainError(_l("Choose Client or Specialist."), field="role")
    password_hash = hash_password(password)  # also for a taken address, so both cost the same
    owner = _check_unique(username, email)
    if owner is not None:
        _tell_owner(owner)
        return None
    user = User(
        username=username,
        email=email,
        password_hash=password_hash,
        role=role,
        timezone=timezone,
        locale=locale,
        specialty=(specialty or None) if role == "specialist" else None,
        bio=(bio or None) if role == "specialist" else None,
        display_name=display_name or None,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent registration took the name or address; nothing else is pending yet
        db.session.rollback()
        owner = _check_unique(username, email)
        if owner is None:
            raise DomainError(_l("This username is taken."), field="username") from None
        _tell_owner(owner)
        return None
    send_confirmation(user)
    return user


def _tell_owner(owner: User) -> None:
    """Email the owner of an address that someone tried to register again (not a blocked account)."""
    if owner.is_blocked:
        return
    login, reset = page_path("auth.login"), page_path("auth.reset_request")
    queue_email(owner, "registration_attempt", login_link=login, reset_link=reset)


def send_confirmation(user: User) -> None:
    """Issue a new confirmation link (older ones stop working) and queue the email."""
    raw = tokens.issue_token(user, tokens.CONFIRM)
    queue_email(user, "confirm_account", link=page_path("auth.confirm", token=raw))


def send_reset_link(user: User) -> None:
    """Issue a new reset link (older ones stop working) and queue the email."""
    raw = tokens.issue_token(user, tokens.RESET)
    queue_email(user, "reset_password", link=page_path("auth.reset_password", token=raw))


def confirm(raw_token: str) -> User:
    """Use a confirmation token; raises TokenInvalid if unknown, used or expired."""
    user = tokens.use_token(raw_token, tokens.CONFIRM)
    if user.confirmed_at is None:
        user.confirmed_at = utcnow()
    return user


THROTTLED = _l("Too many failed attempts. Please wait 15 minutes and try again.")
WRONG_LOGIN = _l("Wrong username, email or password.")


class LoginRefused(DomainError):
    """Login refused; `reason` is one of throttled, invalid, unconfirmed, blocked."""

    def __init__(self, message, reason: str, user: User | None = None):
        super().__init__(message)
        self.reason = reason
        self.user = user


class PasswordCheckThrottled(DomainError):
    """The current password was not even checked: too many recent failures (shown at that field)."""


def authenticate(login: str, password: str, address: str, devices: Devices = NO_DEVICES) -> User:
    """Check the credentials; failures count per name typed and per address, or per device (portal/devices.py)."""
    user = find_by_login(login)
    device = devices.device_id(user)
    if not throttle.login_allowed([login], address, device):
        raise LoginRefused(THROTTLED, "throttled")
    if user is None:
        verify_password(DUMMY_HASH, password)
        throttle.record_failure([login], address, device)
        raise LoginRefused(WRONG_LOGIN, "invalid")
    if not verify_password(user.password_hash, password):
        throttle.record_failure([login], address, device)
        raise LoginRefused(WRONG_LOGIN, "invalid")
    if user.is_blocked:
        raise LoginRefused(_l("Your account is blocked"), "blocked", user)
    if not user.is_confirmed:
        raise LoginRefused(
            _l("Please confirm your email address first. We can send you a new link."), "unconfirmed", user
        )
    return user


def reset_password(raw_token: str, new_password: str) -> User:
    """Set a new password from a reset link; every session of the account ends."""
    user = tokens.use_token(raw_token, tokens.RESET)
    user.password_hash = hash_password(new_password)
    user.rotate_session_token()
    throttle.clear_names(user.username, user.email)  # the link proved who they are
    if user.confirmed_at is None:  # the link proved the address
        user.confirmed_at = utcnow()
    queue_email(user, "password_changed", changed_at=utcnow())
    return user


def change_password(user: User, current: str, new: str, address: str, devices: Devices = NO_DEVICES) -> None:
    """Change the password after checking the current one, counted like a login; every other session ends.

    A stolen session must not be a way to guess the password: a wrong current password is a failed login
    of the account (both its names and the address, or this browser's device cookie).
    """
    names, device = [user.username, user.email], devices.device_id(user)
    if not throttle.login_allowed(names, address, device):
        raise PasswordCheckThrottled(THROTTLED, field="current_password")
    if not verify_password(user.password_hash, current):
        throttle.record_failure(names, address, device)
        raise DomainError(_l("The current password is wrong."), field="current_password")
    user.password_hash = hash_password(new)
    user.rotate_session_token()
    queue_email(user, "password_changed", changed_at=utcnow())
