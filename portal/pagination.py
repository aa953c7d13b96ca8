"""Keyset pagination for every list: one `Page`, one cursor format, one way to page an ordered statement.

A list is ordered by (an instant, an id) — a slot's start, a consultation's slot start, a user's sign-up time —
so a position is that pair, written as `<microseconds since 1970>-<id>`; or by (a text, an id) — the
directory's names — written as `<the text in URL-safe base64>.<id>`. Pages never use OFFSET: the statement
continues strictly after (or before) the position, so rows added meanwhile shift nothing.
"""

import binascii
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import url_for
from sqlalchemy import Select, bindparam, tuple_

from portal.extensions import db
from portal.ids import valid_id
from portal.rows import read_columns

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# Cursors outside these bounds are not positions in any list: they mean the first page.
CURSOR_MIN = datetime(2000, 1, 1, tzinfo=UTC)
CURSOR_MAX = datetime(2200, 1, 1, tzinfo=UTC)
TEXT_CURSOR = re.compile(r"([A-Za-z0-9_-]{0,400})\.([0-9]{1,10})")
_MICROS_MIN, _MICROS_MAX = ((bound - EPOCH) // MICROSECOND for bound in (CURSOR_MIN, CURSOR_MAX))


@dataclass
class Page:
    """One page of a list and the cursors to continue from in either direction (None: no such page)."""

    items: list
    prev_cursor: str | None = None
    next_cursor: str | None = None

    def links(self, endpoint: str, **args) -> tuple[str | None, str | None]:
        """The URLs of the previous and next pages of `endpoint` with the same query arguments."""
        args = {name: value for name, value in args.items() if value not in (None, "")}
        prev_url = url_for(endpoint, **args, before=self.prev_cursor) if self.prev_cursor else None
        next_url = url_for(endpoint, **args, after=self.next_cursor) if self.next_cursor else None
        return prev_url, next_url


def encode_cursor(key: datetime | str, ident: int) -> str:
    """A position in a list ordered by (instant, id) or by (text, id)."""
    if isinstance(key, str):
        return f"{urlsafe_b64encode(key.encode()).decode().rstrip('=')}.{ident}"
    return f"{(key - EPOCH) // MICROSECOND}-{ident}"


def decode_cursor(value: str | None, by_text: bool = False) -> tuple[datetime | str, int] | None:
    """The (instant, id) — or (text, id) — of a cursor, or None when it is missing or malformed."""
    if by_text:
        return _decode_text_cursor(value)
    if not value or len(value) > 40:
        return None
    micros, _, ident = value.partition("-")
    if not (micros.isascii() and micros.isdigit() and ident.isascii() and ident.isdigit()) or len(micros) > 18:
        return None
    # Bounded before any date arithmetic: 18 digits of microseconds reach far past the year 9999.
    if not (valid_id(int(ident)) and _MICROS_MIN <= int(micros) < _MICROS_MAX):
        return None
    return EPOCH + int(micros) * MICROSECOND, int(ident)


def _decode_text_cursor(value: str | None) -> tuple[str, int] | None:
    """The (text, id) of a `<base64>.<id>` cursor, or None."""
    found = TEXT_CURSOR.fullmatch(value or "")
    if not found or not valid_id(int(found.group(2))):
        return None
    encoded = found.group(1)
    try:
        key = urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    # PostgreSQL text cannot hold NUL: such a cursor was never made by a page.
    return None if "\x00" in key else (key, int(found.group(2)))


def ordered(stmt: Select, columns: tuple, ascending: bool, with_cursor: bool, limit: int) -> Select:
    """`stmt` ordered by `columns` from a bound cursor position (`cursor_0`, `cursor_1`), one row more than a page.

    Callers build it once per shape of list (see `keyset_page`): building a statement costs more than running it.
    """
    if with_cursor:
        position = tuple_(*columns)
        mark = tuple_(*(bindparam(f"cursor_{i}", type_=column.type) for i, column in enumerate(columns)))
        stmt = stmt.where(position > mark if ascending else position < mark)
    return stmt.order_by(*(c.asc() if ascending else c.desc() for c in columns)).limit(limit + 1)


def keyset_page(
    statement: Callable[[bool, bool], Select],
    key: Callable,
    *,
    after: str | None = None,
    before: str | None = None,
    descending: bool = False,
    by_text: bool = False,
    params: dict | None = None,
    make: Callable | None = None,
    entities: bool = False,
    limit: int,
) -> Page:
    """One page of a list, after or before a cursor.

    `statement(ascending, with_cursor)` is the list's statement made by `ordered` with `limit`; `params` the
    values of its bound parameters; `make(*row)` turns a result row into an item (default: the row's first
    column); `entities`: the statement selects ORM objects, not only columns; `key(item)` is the item's
    (instant, id) position — (text, id) with `by_text`. Going back past the first row shows the first page, full.
    """
    cursor = decode_cursor(before, by_text) if before else None
    forward = cursor is None
    if forward:
        cursor = decode_cursor(after, by_text)
    values = dict(params or {})
    if cursor:
        values.update(cursor_0=cursor[0], cursor_1=cursor[1])
    stmt = statement(forward != descending, cursor is not None)
    result = db.session.execute(stmt, values) if entities else read_columns(stmt, values)
    items = [make(*row) for row in result] if make else list(result.scalars())
    more = len(items) > limit
    items = items[:limit]
    if not forward:
        if not more:
            return keyset_page(
                statement,
                key,
                descending=descending,
                by_text=by_text,
                params=params,
                make=make,
                entities=entities,
                limit=limit,
            )
        items.reverse()
        return Page(items, encode_cursor(*key(items[0])), encode_cursor(*key(items[-1])))
    page = Page(items, next_cursor=encode_cursor(*key(items[-1])) if more else None)
    if cursor:
        page.prev_cursor = encode_cursor(*key(items[0])) if items else encode_cursor(*cursor)
    return page
