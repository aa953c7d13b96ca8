"""The bounds of a database id, the `<id:…>` URL converter that enforces them, and row URLs for lists."""

from flask import Flask, url_for
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # PostgreSQL `integer`


def valid_id(value: int) -> bool:
    """True for an id the database could hold."""
    return 0 < value <= MAX_ID


class _RowId:
    """Stands for "each row's id" when a list builds one URL for all of its rows (see `row_url`)."""


ROW_ID = _RowId()


class IdConverter(IntegerConverter):
    """A positive id that fits the database's integer column; anything else is a 404 before the view runs."""

    def __init__(self, map, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)

    def to_url(self, value) -> str:
        return "{}" if value is ROW_ID else super().to_url(value)


def row_url(endpoint: str, param: str, **values) -> str:
    """url_for(endpoint, **values) with the id `param` left open as "{}", for `.format(row.id)` in a list.

    A list of 20 rows with two buttons each would call url_for 40 times (19 µs each, measured with timeit);
    formatting takes 0.3 µs. The id converter renders the open place, so no number is searched and replaced.
    """
    return url_for(endpoint, **values, **{param: ROW_ID})


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    app.jinja_env.globals["row_url"] = row_url
