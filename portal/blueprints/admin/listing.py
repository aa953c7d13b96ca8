"""The admin lists: one bounded query per page, keyset pagination on (created_at, id)."""

from dataclasses import dataclass, field

from flask import current_app, request
from sqlalchemy import Select, func, literal, or_, select, tuple_
from sqlalchemy.orm import aliased, contains_eager, defer

from portal.extensions import db
from portal.models import ModerationLog, OutboxEmail, User

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


def keyset_page(stmt: Select, model, *, oldest_first: bool = False) -> Page:
    """Run `stmt` for the page after `?after=<id>` or before `?before=<id>` in (created_at, id) order."""
    size = current_app.config["PAGE_SIZE"]
    after, before = cursor_arg("after"), cursor_arg("before")
    forward = before is None or after is not None
    cursor = after if forward else before
    key = tuple_(model.created_at, model.id)
    # Rows further down the list have larger keys when oldest come first, smaller when newest do.
    descend = forward != oldest_first
    if cursor is not None:
        anchor = tuple_(select(model.created_at).where(model.id == cursor).scalar_subquery(), literal(cursor))
        stmt = stmt.where(key < anchor if descend else key > anchor)
    order = (model.created_at.desc(), model.id.desc()) if descend else (model.created_at.asc(), model.id.asc())
    rows = list(db.session.scalars(stmt.order_by(*order).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    if forward:
        return Page(rows, rows[0].id if rows and cursor else None, rows[-1].id if more else None)
    rows.reverse()
    return Page(rows, rows[0].id if more else None, rows[-1].id if rows else None)


def users_page(search: str = "", role: str = "", blocked: str = "", oldest_first: bool = False) -> Page:
    """Users matching the search (username or email, any case) and filters."""
    stmt = select(User).options(defer(User.password_hash, raiseload=True), defer(User.bio, raiseload=True))
    if search:
        stmt = stmt.where(
            or_(User.username.icontains(search, autoescape=True), User.email.icontains(search, autoescape=True))
        )
    if role:
        stmt = stmt.where(User.role == role)
    if blocked:
        stmt = stmt.where(User.is_blocked.is_(blocked == "yes"))
    return keyset_page(stmt, User, oldest_first=oldest_first)


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
