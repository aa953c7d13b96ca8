"""The API's one blueprint: every operation authenticates first and answers errors as problems."""

from http import HTTPStatus

import marshmallow as ma
from flask_smorest import Blueprint

from portal.api import problems
from portal.api.auth import authenticate

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.before_request(authenticate)
problems.register(bp)

# Every operation may answer these: no or a bad token, a blocked account or another role, too many requests.
ALWAYS = (401, 403, 429)


def answers(*codes: int):
    """Document the error answers an operation gives besides ALWAYS (each a problem+json body)."""

    def decorator(view):
        for code in sorted({*ALWAYS, *codes}, reverse=True):
            view = bp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorator


def query(schema):
    """The operation's query parameters, as keyword arguments; one it does not know is refused (422), so that a
    misspelt filter is not silently ignored."""
    return bp.arguments(schema, location="query", as_kwargs=True, unknown=ma.RAISE)


def page_body(page, endpoint: str, items: list, args: dict) -> dict:
    """One page of a list: its items and the absolute URLs of the pages before and after it (same filters)."""
    prev_url, next_url = page.links(endpoint, _external=True, **args)
    return {"items": items, "next": next_url, "prev": prev_url}
