"""The bounds of a database id, and the `<id:…>` URL converter that enforces them."""

from flask import Flask
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # PostgreSQL `integer`


def valid_id(value: int) -> bool:
    """True for an id the database could hold."""
    return 0 < value <= MAX_ID


class IdConverter(IntegerConverter):
    """A positive id that fits the database's integer column; anything else is a 404 before the view runs."""

    def __init__(self, map, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
