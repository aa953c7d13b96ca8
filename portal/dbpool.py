"""Pooled database connections: one that sat idle for a while is checked before it is used again.

SQLAlchemy's pool_pre_ping checks every connection at every checkout: a round trip to PostgreSQL on
every request. Here only a connection idle for IDLE_PING_SECONDS or more is checked (a quiet site after
a database restart still never shows an error); a busy site meets a dead connection only on requests that
were using it when the database went away, and SQLAlchemy then replaces every pooled connection at once.
"""

import time

from flask import Flask
from sqlalchemy import event, exc

from portal.extensions import db

IDLE_PING_SECONDS = 10.0


def init_app(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return  # the embedded SQLite database is a file: nothing goes away
    with app.app_context():
        engine = db.engine
    event.listen(engine, "checkin", _remember_checkin)
    event.listen(engine, "checkout", _ping_if_idle)


def _remember_checkin(dbapi_connection, record) -> None:
    if record is not None:
        record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection, record, proxy) -> None:
    """Raising DisconnectionError makes the pool drop this connection and hand out a new one."""
    checked_in_at = record.info.get("checked_in_at")
    if checked_in_at is None or time.monotonic() - checked_in_at < IDLE_PING_SECONDS:
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        raise exc.DisconnectionError(f"connection idle {time.monotonic() - checked_in_at:.0f} s was dead") from error
