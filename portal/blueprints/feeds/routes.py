"""The calendar feed: public, addressed by its private token, read-only."""

from flask import Response, abort, request

from portal.blueprints.feeds import bp
from portal.clock import utcnow
from portal.feeds import feed_body, feed_digest, feed_etag, feed_owner, feed_rows, rows_digest

HEADERS = {
    "Cache-Control": "private, max-age=300",
    "Content-Disposition": 'inline; filename="consultations.ics"',
    "X-Robots-Tag": "noindex",
}


@bp.route("/feeds/<token>.ics")
def feed(token: str):
    """The owner's consultations (and a specialist's slots) as RFC 5545; 404 for an unknown or blocked owner.

    An app that sends the ETag it has gets a 304 when nothing changed, before any calendar is built.
    """
    owner = feed_owner(token)
    if owner is None:
        abort(404)
    now, rows = utcnow(), None
    digest = feed_digest(owner, now)
    if digest is None:
        rows = feed_rows(owner, now)
        digest = rows_digest(owner, rows, now)
    etag = feed_etag(owner, digest)
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304, headers=HEADERS)
    else:
        body = feed_body(owner, etag, now, rows)
        response = Response(body, content_type="text/calendar; charset=utf-8", headers=HEADERS)
    response.set_etag(etag)
    return response
