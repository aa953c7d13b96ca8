"""One clock for the whole request; tests freeze it through config["CLOCK"]."""

from datetime import UTC, datetime

from flask import current_app, g, has_app_context, has_request_context


def utcnow() -> datetime:
    """The current instant in UTC, the same for every call within one request."""
    if has_request_context() and "now" in g:
        return g.now
    clock = current_app.config.get("CLOCK") if has_app_context() else None
    now = clock() if clock else datetime.now(UTC)
    if has_request_context():
        g.now = now
    return now
