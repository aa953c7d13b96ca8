"""The admin lists: one bounded query per page, keyset pagination on (created_at, id)."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial

from flask import current_app, request
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, defer

from portal.extensions import db
from portal.models import ModerationLog, OutboxEmail, User
from portal.models.user import SEARCH_KEY, AccountState
from portal.pagination import Page, keyset_page, ordered
from portal.search import contains, contains_pattern, indexed_words, words_found


def _page(stmt_for, *, oldest_first: bool = False, make=None, params=None) -> Page:
    """The page of a list in (created_at, id) order after `?after=` or before `?before=`, newest first by default.

    `stmt_for(ascending, with_cursor)` is the list's statement made by `ordered`; without `make`, it selects
    entities (the log's and the emails' rows).
    """
    return keyset_page(
        stmt_for,
        lambda row: (row.created_at, row.id),
        after=request.args.get("after"),
        before=request.args.get("before"),
        descending=not oldest_first,
        params=params,
        make=make,
        entities=make is None,
        limit=_size(),
    )


def _size() -> int:
    return current_app.config["PAGE_SIZE"]


def _created_order(stmt, columns):
    """`stmt` paged in (created_at, id) order; built per request (for lists whose filters change the joins)."""
    return lambda ascending, with_cursor: ordered(stmt, columns, ascending, with_cursor, _size())


@dataclass(slots=True)
class UserRow(AccountState):
    """A row of the users page (columns, not ORM objects: no password hash, no bio)."""

    id: int
    username: str
    email: str
    role: str
    display_name: str | None
    confirmed_at: datetime | None
    is_blocked: bool
    blocked_reason: str | None
    created_at: datetime
    totp_enabled_at: datetime | None


_USER_COLUMNS = (
    "id",
    "username",
    "email",
    "role",
    "display_name",
    "confirmed_at",
    "is_blocked",
    "blocked_reason",
    "created_at",
    "totp_enabled_at",
)


def users_page(search: str = "", role: str = "", blocked: str = "", oldest_first: bool = False) -> Page:
    """Users matching the search (username, display name or email, any case) and filters."""
    indexed = indexed_words(search) and db.session.get_bind().dialect.name == "postgresql" if search else None
    shape = (indexed, bool(role), bool(blocked), _size())
    values = {"pattern": contains_pattern(search), "text": search, "role": role, "blocked": blocked == "yes"}
    return _page(partial(_user_list, *shape), oldest_first=oldest_first, make=UserRow, params=values)


@cache
def _user_list(search: bool | None, role: bool, blocked: bool, limit: int, ascending: bool, with_cursor: bool):
    """A page's statement of the users page for this set of filters, built once.

    `search` is None without a search, True for one the suffix index can answer (PostgreSQL).
    """
    conditions = []
    if search is not None:
        pattern = bindparam("pattern")
        matches = (contains(column, pattern) for column in (User.username, User.display_name, User.email))
        conditions.append(or_(*matches))
        if search:
            # The suffix index finds the users holding each word of the search (SEARCH_KEY: the three columns
            # side by side); each column is still checked on its own, so that a text spanning two is no match.
            conditions.append(words_found(SEARCH_KEY, bindparam("text")))
    if role:
        conditions.append(User.role == bindparam("role"))
    if blocked:
        conditions.append(User.is_blocked == bindparam("blocked"))
    columns = [getattr(User, name) for name in _USER_COLUMNS]
    if not search:
        return ordered(select(*columns).where(*conditions), (User.created_at, User.id), ascending, with_cursor, limit)
    # Find the matches first (suffix index), then sort them. Otherwise PostgreSQL, which cannot estimate how
    # rare a substring is, walks every user in join order looking for a page of matches. Only the matches'
    # positions are kept and sorted; the page's own rows are read afterwards.
    found = select(User.id, User.created_at).where(*conditions).cte("matching_users")
    found = found.prefix_with("MATERIALIZED", dialect="postgresql")
    positions = (found.c.created_at, found.c.id)
    page = ordered(select(*positions), positions, ascending, with_cursor, limit).subquery("page")
    return (
        select(*columns)
        .join(page, User.id == page.c.id)
        .order_by(*(column.asc() if ascending else column.desc() for column in (page.c.created_at, page.c.id)))
    )


def log_page(admin_name: str = "", user_name: str = "") -> Page:
    """Moderation log entries, newest first, with both usernames in the same query."""
    admin, target = aliased(User), aliased(User)
    stmt = (
        select(ModerationLog)
        .join(admin, ModerationLog.admin_id == admin.id)
        .join(target, ModerationLog.user_id == target.id)
        .options(
            contains_eager(ModerationLog.admin.of_type(admin)),
            contains_eager(ModerationLog.user.of_type(target)),
        )
    )
    if admin_name:
        stmt = stmt.where(func.lower(admin.username) == admin_name.lower())
    if user_name:
        stmt = stmt.where(func.lower(target.username) == user_name.lower())
    return _page(_created_order(stmt, (ModerationLog.created_at, ModerationLog.id)))


def emails_page(state: str = "") -> Page:
    """Outbox rows, newest first, without their bodies."""
    stmt = select(OutboxEmail).options(
        defer(OutboxEmail.body_text, raiseload=True),
        defer(OutboxEmail.body_html, raiseload=True),
        defer(OutboxEmail.ics, raiseload=True),
    )
    if state:
        stmt = stmt.where(OutboxEmail.state == state)
    return _page(_created_order(stmt, (OutboxEmail.created_at, OutboxEmail.id)))
