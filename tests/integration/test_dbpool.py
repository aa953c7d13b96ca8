"""Pooled connections: one idle long enough is checked before use, so a dead one never reaches a page."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from portal import dbpool
from portal.extensions import db as _db


def _backend_pid() -> int:
    pid = _db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    _db.session.remove()  # back to the pool
    return pid


def _terminate(database_url: str, pid: int) -> None:
    """What a database restart does to a pooled connection."""
    engine = create_engine(database_url, poolclass=None)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    engine.dispose()


@pytest.fixture
def one_connection(app):
    """A pool with a single connection, so the test knows which one a request gets."""
    with app.app_context():
        _db.session.remove()
        _db.engine.pool.dispose()
        yield
        _db.session.remove()
        _db.engine.pool.dispose()


def test_a_dead_connection_idle_for_a_while_is_replaced_before_use(app, app_config, one_connection, monkeypatch):
    with app.app_context():
        first = _backend_pid()
        _terminate(app_config["DATABASE_URL"], first)
        monkeypatch.setattr(dbpool, "IDLE_PING_SECONDS", 0.0)  # "a while" has passed
        second = _backend_pid()  # no error: the pool found the dead connection and opened another
        assert second != first


def test_a_recently_used_connection_is_not_pinged(app, app_config, one_connection, monkeypatch):
    """Without the idle check a dead connection fails the statement (what the check prevents), once."""
    with app.app_context():
        first = _backend_pid()
        _terminate(app_config["DATABASE_URL"], first)
        monkeypatch.setattr(dbpool, "IDLE_PING_SECONDS", 3600.0)
        with pytest.raises(OperationalError):
            _backend_pid()
        _db.session.remove()
        assert _backend_pid() != first  # SQLAlchemy replaced the pool after the disconnect
