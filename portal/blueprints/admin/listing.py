"""The admin lists: one bounded query per page, keyset pagination on (created_at, id)."""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import NamedTuple

from flask import current_app, request
from sqlalchemy import Select, bindparam, func, literal, or_, select, tuple_
from sqlalchemy.orm import aliased, contains_eager, defer

from portal.extensions import db
from portal.models import ModerationLog, OutboxEmail, User
from portal.search import contains, contains_pattern

MAX_ID = 2**31 - 1


@dataclass
class Page:
    """One page of rows and the ids to continue from in either direction."""

    rows: list = field(default_factory=list)
    prev_cursor: int | None = None
    next_cursor: int | None = None


def cursor_arg(name: str) -> int | None:
    """A positive int id from the query string; anything else means "from the start"."""
    value = request.args.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def keyset_page(stmt: Select, model, *, oldest_first: bool = False, make=None, table=None, params=None) -> Page:
    """Run `stmt` for the page after `?after=<id>` or before `?before=<id>` in (created_at, id) order.

    `make(*row)` turns each result row into an item (for a statement of columns); by default rows are the
    model's.
    `model` may be an alias of `table` (the mapped class, where a cursor's position is looked up);
    `params` are the values of the statement's bound parameters.
    """
    table = table or model
    size = current_app.config["PAGE_SIZE"]
    after, before = cursor_arg("after"), cursor_arg("before")
    forward = before is None or after is not None
    cursor = after if forward else before
    key = tuple_(model.created_at, model.id)
    # Rows further down the list have larger keys when oldest come first, smaller when newest do.
    descend = forward != oldest_first
    if cursor is not None:
        anchor = tuple_(select(table.created_at).where(table.id == cursor).scalar_subquery(), literal(cursor))
        stmt = stmt.where(key < anchor if descend else key > anchor)
    order = (model.created_at.desc(), model.id.desc()) if descend else (model.created_at.asc(), model.id.asc())
    result = db.session.execute(stmt.order_by(*order).limit(size + 1), params)
    rows = [make(*row) for row in result] if make else list(result.scalars())
    more = len(rows) > size
    rows = rows[:size]
    if forward:
        return Page(rows, rows[0].id if rows and cursor else None, rows[-1].id if more else None)
    rows.reverse()
    return Page(rows, rows[0].id if more else None, rows[-1].id if rows else None)


class UserRow(NamedTuple):
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

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


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
)
TRIGRAM = 3  # a search this long can use the trigram indexes


def users_page(search: str = "", role: str = "", blocked: str = "", oldest_first: bool = False) -> Page:
    """Users matching the search (username or email, any case) and filters."""
    stmt, found = _users_stmt(len(search) >= TRIGRAM if search else None, bool(role), bool(blocked))
    values = {"pattern": contains_pattern(search), "role": role, "blocked": blocked == "yes"}
    return keyset_page(stmt, found, oldest_first=oldest_first, make=UserRow, table=User, params=values)


@cache
def _users_stmt(search: bool | None, role: bool, blocked: bool):
    """The users page's statement for this set of filters (built once each; values bound per call).

    `search` is None without a search, True for one long enough for the trigram indexes.
    """
    conditions = []
    if search is not None:
        pattern = bindparam("pattern")
        conditions.append(or_(contains(User.username, pattern), contains(User.email, pattern)))
    if role:
        conditions.append(User.role == bindparam("role"))
    if blocked:
        conditions.append(User.is_blocked == bindparam("blocked"))
    columns = [getattr(User, name) for name in _USER_COLUMNS]
    if not search:
        return select(*columns).where(*conditions), User
    # Find the matches first (trigram indexes), then sort them. Otherwise PostgreSQL, which cannot
    # estimate how rare a substring is, walks every user in join order looking for a page of matches.
    matching = select(*columns).where(*conditions).cte("matching_users")
    found = matching.prefix_with("MATERIALIZED", dialect="postgresql").c
    return select(*(found[name] for name in _USER_COLUMNS)), found


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
    return keyset_page(stmt, ModerationLog)


def emails_page(state: str = "") -> Page:
    """Outbox rows, newest first, without their bodies."""
    stmt = select(OutboxEmail).options(
        defer(OutboxEmail.body_text, raiseload=True),
        defer(OutboxEmail.body_html, raiseload=True),
        defer(OutboxEmail.ics, raiseload=True),
    )
    if state:
        stmt = stmt.where(OutboxEmail.state == state)
    return keyset_page(stmt, OutboxEmail)
