"""Rows that start work once the transaction that wrote them commits: one mechanism for every kind.

Emails (portal/outbox), webhook deliveries (portal/webhooks) and reset or resend requests
(portal/services/email_requests.py) are rows written in the transaction of the change they report. Each
kind registers here, once, how its rows are queued on RQ (`enqueue`, given the ids) and how one row is
handled in-process when the portal runs without Redis (`handle`, given an id: the embedded default).

A writer calls `remember(kind, row)` after adding the row; its id is collected after the flush, passed to
the kind's `enqueue` after the commit, and forgotten on a rollback (the work of a change that did not happen
never starts). Without Redis, the rows are handled after the view, kinds in the order they were registered:
a reset request handled first writes its email, which is then delivered by the kind registered after it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import event

from portal.extensions import db

log = logging.getLogger(__name__)

_NEW = "after_commit_new"  # session.info: (kind, row) added and not yet flushed
_IDS = "after_commit_ids"  # session.info: (kind, id) flushed in the open transaction
_IN_PROCESS = "after_commit_in_process"  # g: kind -> ids to handle after the view


@dataclass(frozen=True)
class Kind:
    name: str
    enqueue: Callable[[list[int]], object]
    handle: Callable[[int], object]


def register(app: Flask, name: str, enqueue: Callable[[list[int]], object], handle: Callable[[int], object]) -> None:
    """Declare a kind of row; the session listeners and the in-process step are installed with the first."""
    kinds = app.extensions.setdefault("after_commit", {})
    if not kinds:
        app.after_request(_handle_in_process)
    kinds[name] = Kind(name, enqueue, handle)
    for name_, listener in (
        ("after_flush_postexec", _collect_ids),
        ("after_commit", _dispatch_after_commit),
        ("after_rollback", _forget_after_rollback),
    ):
        if not event.contains(db.session, name_, listener):
            event.listen(db.session, name_, listener)


def remember(kind: str, row) -> None:
    """Start the kind's work for `row` once the current transaction commits (nothing if it rolls back)."""
    if row.id is not None:  # flushed already
        db.session.info.setdefault(_IDS, []).append((kind, row.id))
    else:
        db.session.info.setdefault(_NEW, []).append((kind, row))


def dispatch(kind: str, ids: list[int]) -> None:
    """Start the work for committed rows now: queue it on RQ, or without Redis handle it after the request."""
    if not ids:
        return
    if current_app.config["REDIS_URL"]:
        current_app.extensions["after_commit"][kind].enqueue(ids)
    elif has_request_context():
        g.setdefault(_IN_PROCESS, {}).setdefault(kind, []).extend(ids)


def _collect_ids(session, flush_context) -> None:
    rows = session.info.pop(_NEW, [])
    session.info.setdefault(_IDS, []).extend((kind, row.id) for kind, row in rows if row.id is not None)
    leftover = [(kind, row) for kind, row in rows if row.id is None]
    if leftover:
        session.info[_NEW] = leftover


def _dispatch_after_commit(session) -> None:
    pairs = session.info.pop(_IDS, None)
    if not pairs:
        return
    by_kind: dict[str, list[int]] = {}
    for kind, row_id in pairs:
        by_kind.setdefault(kind, []).append(row_id)
    for kind in current_app.extensions["after_commit"]:
        dispatch(kind, by_kind.get(kind, []))


def _forget_after_rollback(session) -> None:
    session.info.pop(_IDS, None)
    session.info.pop(_NEW, None)


def _handle_in_process(response):
    """Embedded default: handle this request's rows; a failure stays on the row for the drain to retry."""
    for kind in current_app.extensions["after_commit"].values():
        pending = g.get(_IN_PROCESS, {})
        for row_id in pending.pop(kind.name, ()):
            try:
                kind.handle(row_id)
            except Exception as exc:  # recorded on the row; the page is not the place to fail
                db.session.rollback()
                log.warning("in-process handling of %s %s failed: %s", kind.name, row_id, exc)
    return response
