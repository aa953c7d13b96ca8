"""Demo data for trying the portal: accounts of each role and a fortnight of slots."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Slot, User
from portal.security import hash_password

DEMO_PASSWORD = "demo-portal-2026"

ACCOUNTS = [
    dict(role="admin", username="admin", email="admin@example.com", timezone="UTC", locale="en"),
    dict(
        role="specialist",
        username="dr_smith",
        email="smith@example.com",
        display_name="Dr. Anna Smith",
        specialty="Psychologist",
        bio="Cognitive behavioural therapy, 12 years of practice.",
        timezone="Europe/London",
        locale="en",
    ),
    dict(
        role="specialist",
        username="ivanova",
        email="ivanova@example.com",
        display_name="Мария Иванова",
        specialty="Юрист",
        bio="Семейное и трудовое право.",
        timezone="Europe/Moscow",
        locale="ru",
    ),
    dict(role="client", username="alice", email="alice@example.com", timezone="Europe/Berlin", locale="en"),
    dict(role="client", username="boris", email="boris@example.com", timezone="Asia/Vladivostok", locale="ru"),
]


def load_demo() -> list[tuple[str, str, str]]:
    """Create the demo accounts and slots if there are no users; returns (role, username, password)."""
    if db.session.scalar(select(func.count(User.id))):
        return []
    now = utcnow()
    password_hash = hash_password(DEMO_PASSWORD)
    users = []
    for spec in ACCOUNTS:
        user = User(password_hash=password_hash, confirmed_at=now, **spec)
        db.session.add(user)
        users.append(user)
    db.session.flush()
    for user in users:
        if user.role == "specialist":
            _add_slots(user, now)
    db.session.commit()
    return [(u.role, u.username, DEMO_PASSWORD) for u in users]


def _add_slots(specialist: User, now: datetime) -> None:
    zone = ZoneInfo(specialist.timezone)
    today = now.astimezone(zone).date()
    for offset in range(1, 15):
        day = today + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for hour in (10, 11, 14, 16):
            start = datetime.combine(day, time(hour), tzinfo=zone)
            db.session.add(
                Slot(
                    specialist_id=specialist.id,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=50),
                    note="Online (video call)" if hour != 14 else "In person",
                )
            )
