"""Test data builders. Users share one precomputed password hash so tests stay fast."""

import itertools
from datetime import datetime, timedelta

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Consultation, Slot, User
from portal.security import hash_password

PASSWORD = "correct-horse-battery-42"
_HASH = None
_seq = itertools.count(1)


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


def make_user(
    role: str = "client",
    username: str | None = None,
    email: str | None = None,
    confirmed: bool = True,
    blocked: bool = False,
    timezone: str = "UTC",
    locale: str = "en",
    specialty: str | None = None,
    commit: bool = True,
    **extra,
) -> User:
    n = next(_seq)
    username = username or f"{role[:4]}{n}"
    user = User(
        username=username,
        email=email or f"{username.lower()}@example.com",
        password_hash=password_hash(),
        role=role,
        timezone=timezone,
        locale=locale,
        confirmed_at=utcnow() if confirmed else None,
        is_blocked=blocked,
        specialty=specialty or ("Psychologist" if role == "specialist" else None),
        **extra,
    )
    db.session.add(user)
    if commit:
        db.session.commit()
    return user


def make_slot(
    specialist: User,
    starts_at: datetime | None = None,
    minutes: int = 45,
    starts_in: timedelta = timedelta(days=1),
    note: str | None = None,
    commit: bool = True,
) -> Slot:
    starts_at = starts_at or (utcnow() + starts_in).replace(second=0, microsecond=0)
    slot = Slot(
        specialist_id=specialist.id, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), note=note
    )
    db.session.add(slot)
    if commit:
        db.session.commit()
    return slot


def make_consultation(slot: Slot, client: User, status: str = "pending", commit: bool = True, **extra) -> Consultation:
    consultation = Consultation(slot_id=slot.id, client_id=client.id, status=status, **extra)
    if status == "accepted":
        consultation.accepted_at = utcnow()
    db.session.add(consultation)
    if commit:
        db.session.commit()
    return consultation
