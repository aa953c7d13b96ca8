"""Accounts: clients, specialists and admins."""

import secrets
from datetime import datetime
from typing import Optional

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ColumnElement, Index, String, Text, and_, func, literal, text, true
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from portal.models.base import Base, utcnow

ROLES = ("client", "specialist", "admin")


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


def new_feed_token() -> str:
    """The private part of a calendar feed's address: 256 random bits, 43 URL-safe characters."""
    return secrets.token_urlsafe(32)


class AccountState:
    """Whether an account (an ORM user or a row of the users page) is confirmed and has two-factor on."""

    __slots__ = ()

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def has_two_factor(self) -> bool:
        return self.totp_enabled_at is not None


class User(AccountState, UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('client', 'specialist', 'admin')", name="role"),
        Index("ix_users_created_at", "created_at"),
        Index("uq_users_feed_token", "feed_token", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[Optional[str]] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(5), default="en")
    specialty: Mapped[Optional[str]] = mapped_column(String(100))
    bio: Mapped[Optional[str]] = mapped_column(Text)
    confirmed_at: Mapped[Optional[datetime]]
    is_blocked: Mapped[bool] = mapped_column(default=False)
    blocked_reason: Mapped[Optional[str]] = mapped_column(String(500))
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # Addresses the calendar feed (/feeds/<token>.ics); a random id, not a secret derived from anything.
    feed_token: Mapped[Optional[str]] = mapped_column(String(64), default=new_feed_token)
    # Profile checkbox "Email me reminders" (SPEC §13), on by default.
    reminders_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Two-factor authentication (SPEC §16): the TOTP secret encrypted (portal/services/two_factor.py), when
    # it was turned on, and the last time step a code was accepted for (a code is good once).
    totp_secret: Mapped[Optional[str]] = mapped_column(String(255))
    totp_enabled_at: Mapped[Optional[datetime]]
    totp_last_step: Mapped[Optional[int]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def get_id(self) -> str:
        # The token makes a copied cookie die when the session is ended server-side.
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self) -> None:
        """End every session and remember-me cookie of this account."""
        self.session_token = new_session_token()

    @property
    def name(self) -> str:
        return person_name(self.display_name, self.username)

    @property
    def label(self) -> str:
        """How this person is named on pages and in emails (see `person_label`)."""
        return person_label(self.display_name, self.username)

    @hybrid_property
    def is_active_specialist(self) -> bool:
        """A specialist clients may find and book: confirmed and not blocked (in Python and in SQL)."""
        return self.role == "specialist" and not self.is_blocked and self.confirmed_at is not None

    @is_active_specialist.inplace.expression
    @classmethod
    def _is_active_specialist_sql(cls) -> ColumnElement[bool]:
        return and_(cls.role == "specialist", cls.is_blocked.is_(False), cls.confirmed_at.is_not(None))

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


# Usernames and emails are unique ignoring case.
Index("uq_users_username_lower", func.lower(User.username), unique=True)
Index("uq_users_email_lower", func.lower(User.email), unique=True)

# The directory lists specialists by name (display name, else username, ignoring case): this index walks them
# in that order and stops after a page (the cursor is the same expression and the id).
SORT_NAME = func.lower(func.coalesce(User.display_name, User.username), type_=String)
Index(
    "ix_users_specialist_name",
    SORT_NAME,
    User.id,
    postgresql_where=text("role = 'specialist'"),
    sqlite_where=text("role = 'specialist'"),
)

# The Specialty select (each specialty of active specialists once, ignoring case) reads this index alone: a
# specialist's row is in it while they can be booked.
ACTIVE_SPECIALIST_SQL = "role = 'specialist' AND is_blocked IS false AND confirmed_at IS NOT NULL"
Index(
    "ix_users_active_specialty",
    func.lower(User.specialty),
    User.specialty,
    postgresql_where=text(ACTIVE_SPECIALIST_SQL),
    sqlite_where=text(ACTIVE_SPECIALIST_SQL),
)

# Substring search (ILIKE '%…%'): the clients' specialist and specialty filters.
# Trigram GIN indexes on PostgreSQL (extension pg_trgm, migration 0002); plain indexes elsewhere.
for _column in (User.username, User.display_name, User.specialty):
    Index(
        f"ix_users_{_column.key}_trgm",
        _column,
        postgresql_using="gin",
        postgresql_ops={_column.key: "gin_trgm_ops"},
    )

# The admins' search looks for its text in the username, the email or the display name. On PostgreSQL an index of the
# words' suffixes (three characters or more, cut to 16; functions of migration 0014) finds the users holding each
# word of the search at the start of a suffix: a read as long as the matches, however many users there are.
# Written as PostgreSQL writes it back (each || in parentheses), so that `flask db check` finds it unchanged.
_space = literal(" ")
SEARCH_KEY = (
    User.username.op("||")(_space)
    .op("||")(User.email)
    .op("||")(_space)
    .op("||")(func.coalesce(User.display_name, literal("")))
)
Index("ix_users_search_suffixes", func.search_suffixes(SEARCH_KEY), postgresql_using="gin").ddl_if(dialect="postgresql")


def person_name(display_name: str | None, username: str) -> str:
    """What a person is called for short (a heading, the API's `name`): their display name, else their username."""
    return display_name or username


def person_label(display_name: str | None, username: str) -> str:
    """The one way a person is named on pages and in emails: "Sigmund Freud @freud", or "@dora" alone without a
    display name — never the username twice. Templates: the `person` filter (text) and `person_tag` (HTML, words.py)."""
    return f"{display_name} @{username}" if display_name else f"@{username}"
