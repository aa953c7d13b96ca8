"""Generated accounts: admins, specialists and clients, plus the named ones the runner logs in as."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bench import common

FIRST = [
    "Anna", "Boris", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Irina", "Jonas", "Karim", "Lena",
    "Mila", "Nikolai", "Olga", "Pavel", "Quinn", "Rosa", "Sergei", "Tanya", "Victor", "Wen", "Yuki", "Zoe",
    "Анна", "Дмитрий", "Мария", "Игорь", "Светлана", "Алексей",
]  # fmt: skip
LAST = [
    "Smith", "Ivanova", "Müller", "Garcia", "Kim", "Novak", "Rossi", "Petrov", "Tanaka", "Dubois", "Khan",
    "Jensen", "Смирнова", "Кузнецов", "Попова", "Соколов",
]  # fmt: skip
BIO = "Ten years of practice. Sessions in English and Russian; online or in the office."


@dataclass(slots=True)
class User:
    id: int
    username: str
    role: str
    password_hash: str
    created_at: datetime
    timezone: str = "UTC"
    locale: str = "en"
    display_name: str | None = None
    specialty: str | None = None
    bio: str | None = None
    confirmed: bool = True
    is_blocked: bool = False
    blocked_reason: str | None = None

    def row(self) -> tuple:
        confirmed_at = self.created_at + timedelta(minutes=7) if self.confirmed else None
        return (
            self.id, self.username, f"{self.username}@example.com", self.password_hash, self.role,
            self.display_name, self.timezone, self.locale, self.specialty, self.bio, confirmed_at,
            self.is_blocked, self.blocked_reason, secrets.token_urlsafe(24), self.created_at,
            secrets.token_urlsafe(32),  # the calendar feed's address, as every account gets one
        )  # fmt: skip


def make_users(rng, now: datetime, password_hash: str, n_specialists: int, n_clients: int):
    """Admins first, then specialists, then clients; returns (users, moderation_log rows)."""
    users: list[User] = []

    def add(username: str, role: str, **fields) -> User:
        created = now - timedelta(days=rng.uniform(250, 730))
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.8 else None
        user = User(len(users) + 1, username, role, password_hash, created, display_name=name, **fields)
        users.append(user)
        return user

    add(common.ADMIN, "admin")
    for i in (2, 3):
        add(f"admin{i:02d}", "admin")

    add(common.SPECIALIST, "specialist", timezone="Europe/Berlin", specialty="Psychologist", bio=BIO)
    for name in common.WRITER_SPECIALISTS:
        add(name, "specialist", specialty=common.WRITER_SPECIALTY)
    # Numbers as wide as the largest one (specialist0006 … specialist1000, client00014 … client20000 at the
    # standard size), so that a search such as "client123" matches the same share of clients at any size.
    width = len(str(n_specialists))
    for n in range(len(common.WRITER_SPECIALISTS) + 2, n_specialists + 1):
        add(
            f"specialist{n:0{width}d}",
            "specialist",
            timezone=rng.choice(common.TIMEZONES),
            locale="ru" if rng.random() < 0.3 else "en",
            specialty=rng.choice(common.SPECIALTIES),
            bio=BIO if rng.random() < 0.6 else None,
            is_blocked=rng.random() < 0.01,
        )

    add(common.CLIENT, "client", timezone="Europe/Berlin")
    for name in common.WRITER_CLIENTS:
        add(name, "client")
    width = len(str(n_clients))
    for n in range(len(common.WRITER_CLIENTS) + 2, n_clients + 1):
        add(
            f"client{n:0{width}d}",
            "client",
            timezone=rng.choice(common.TIMEZONES),
            locale="ru" if rng.random() < 0.3 else "en",
            confirmed=rng.random() >= 0.02,
            is_blocked=rng.random() < 0.005,
        )
    assert sum(u.role == "specialist" for u in users) == n_specialists
    assert sum(u.role == "client" for u in users) == n_clients

    moderation = []
    for user in users:
        if user.is_blocked:
            user.blocked_reason = "Repeated no-shows"
            when = now - timedelta(days=rng.uniform(1, 60))
            moderation.append((len(moderation) + 1, 1, user.id, "block", user.blocked_reason, when))
    return users, moderation
