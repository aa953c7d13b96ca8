"""Two-factor authentication (TOTP, RFC 6238, SPEC §16): turning it on and off, the login's code step, recovery
codes and the admins' reset.

The secret is stored encrypted (Fernet, with a key derived from SECRET_KEY by HKDF), so a copy of the database
alone does not give the codes away. Recovery codes are random (50 bits each) and stored as an HMAC keyed by
SECRET_KEY: that is enough for a random code, and each one is spent by a conditional UPDATE, so two requests
cannot both use it. A TOTP code is accepted once: the step it belongs to is remembered.
"""

import base64
import hashlib
import hmac
import secrets

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete, select, update

from portal.clock import utcnow
from portal.devices import NO_DEVICES, Devices
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import ModerationLog, RecoveryCode, User
from portal.outbox import page_path, queue_email
from portal.services import throttle
from portal.services.accounts import THROTTLED
from portal.services.errors import DomainError
from portal.services.moderation import lock_pair

ISSUER = "Consultation Portal"
RECOVERY_CODES = 10
# One step before and after the current one: a phone's clock a little off still works.
VALID_WINDOW = 1
WRONG_CODE = _l("This code is not right. Check the time on your phone and try the newest code.")


class CodeThrottled(DomainError):
    """Too many recent failed logins: the code was not even checked."""


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal totp secret").derive(
        current_app.secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(stored: str) -> str | None:
    """The secret, or None when it was encrypted under another SECRET_KEY."""
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def new_secret() -> str:
    """A fresh random secret (base32, 160 bits as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def normalise_code(code: str | None) -> str:
    """What the user typed without spaces and dashes, lower-cased (app codes are shown as "123 456")."""
    return "".join(ch for ch in (code or "") if ch not in " -\t").lower()


def _step_of(secret: str, code: str) -> int | None:
    """The time step within the window whose code this is, or None."""
    if not (len(code) == 6 and code.isascii() and code.isdigit()):  # "١٢٣٤٥٦" is digits to str.isdigit
        return None
    totp, now = pyotp.TOTP(secret), utcnow()
    current = totp.timecode(now)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(current + offset), code):
            return current + offset
    return None


def _code_hash(code: str) -> str:
    return hmac.new(current_app.secret_key.encode(), f"recovery {code}".encode(), hashlib.sha256).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; the plain codes are returned once, to be shown."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]  # ten hex digits, shown as xxxxx-xxxxx
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_code_hash(code)) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def turn_on(user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor authentication on once the user shows a code of the new secret; returns the recovery
    codes to show (caller commits). The account's owner is emailed."""
    if user.has_two_factor:
        raise DomainError(_l("Two-factor authentication is already on."))
    step = _step_of(secret, normalise_code(code))
    if step is None:
        raise DomainError(WRONG_CODE, field="code")
    user.totp_secret = encrypt_secret(secret)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    queue_email(user, "two_factor_on", changed_at=utcnow(), link=page_path("auth.two_factor"))
    return codes


def _turn_off(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def check_code(user: User, code: str, address: str, devices: Devices = NO_DEVICES) -> str:
    """Check an authentication or recovery code of the user, counted like a password check (§3 throttling);
    returns "totp" or "recovery". A recovery code is spent; a TOTP code's step cannot be used again."""
    names, device = [user.username, user.email], devices.device_id(user)
    if not throttle.login_allowed(names, address, device):
        raise CodeThrottled(THROTTLED, field="code")
    typed = normalise_code(code)
    secret = decrypt_secret(user.totp_secret) if user.totp_secret else None
    step = _step_of(secret, typed) if secret else None
    if step is not None:
        # Only a newer step than the last one accepted: a code seen over someone's shoulder is good once.
        spent = db.session.execute(
            update(User)
            .where(User.id == user.id, (User.totp_last_step.is_(None)) | (User.totp_last_step < step))
            .values(totp_last_step=step)
        ).rowcount
        if spent:
            return "totp"
    elif len(typed) == 10:
        used = db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _code_hash(typed),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
        ).rowcount
        if used:
            return "recovery"
    throttle.record_failure(names, address, device)
    raise DomainError(WRONG_CODE, field="code")


def turn_off(user: User, code: str, address: str, devices: Devices = NO_DEVICES) -> None:
    """Turn two-factor authentication off after a current code (or a recovery code); the owner is emailed."""
    check_code(user, code, address, devices)
    _turn_off(user)
    queue_email(user, "two_factor_off", changed_at=utcnow(), by_admin=False, link=page_path("auth.two_factor"))


def replace_recovery_codes(user: User, code: str, address: str, devices: Devices = NO_DEVICES) -> list[str]:
    """Ten new recovery codes after a current code (or a recovery code); the old ones stop working. Returns the
    codes to show once (caller commits); the owner is emailed."""
    check_code(user, code, address, devices)
    codes = _new_recovery_codes(user)
    queue_email(user, "recovery_codes_new", changed_at=utcnow(), link=page_path("auth.two_factor"))
    return codes


def remaining_recovery_codes(user: User) -> int:
    """How many recovery codes the user has not used."""
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        ).all()
    )


def reset_by_admin(admin: User, user_id: int) -> User:
    """An admin turns someone's two-factor authentication off (they lost their phone and their codes); logged
    in the moderation log, the owner emailed (caller commits)."""
    if admin.id == user_id:
        raise DomainError(_l("Turn your own two-factor authentication off on your profile."))
    user = lock_pair(admin, user_id)
    if not user.has_two_factor:
        raise DomainError(_l("%(username)s does not use two-factor authentication.", username=user.label))
    _turn_off(user)
    db.session.add(ModerationLog(admin_id=admin.id, user_id=user.id, action="reset_two_factor"))
    queue_email(user, "two_factor_off", changed_at=utcnow(), by_admin=True, link=page_path("auth.two_factor"))
    return user
