"""RQ jobs: thin entry points that take ids and call the portal's services inside its app."""

from collections.abc import Iterator
from contextlib import contextmanager

from portal.extensions import db
from portal.queues import worker_app


@contextmanager
def in_app() -> Iterator[None]:
    """The worker's app context, with a database pool of this (forked) process's own."""
    with worker_app().app_context():
        # A forked work-horse must not reuse the parent's pooled connections.
        db.engine.dispose(close=False)
        try:
            yield
        finally:
            db.session.remove()
