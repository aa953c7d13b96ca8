"""Emptying the test database and this process's Redis keys between tests (and for the shared matrix worlds)."""

import time
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from portal import create_app
from portal.extensions import db as _db


def clear_redis(client, run_id: str) -> None:
    """Delete every Redis key of this test process (its queues, throttles and caches carry the run id)."""
    keys = list(client.scan_iter(match=f"*{run_id}*", count=1000))
    if keys:
        client.delete(*keys)


def lock_waiters() -> int:
    """How many sessions of this test's database wait for a lock. Read on a connection of its own each time:
    within one transaction pg_stat_activity keeps showing what it showed first."""
    with _db.engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()


def empty_tables(attempts: int = 5, restart_ids: bool = False) -> None:
    """TRUNCATE every table; a job of the previous test still finishing can deadlock with it: try again."""
    tables = ", ".join(t.name for t in reversed(_db.metadata.sorted_tables))
    for attempt in range(attempts):
        try:
            with _db.engine.begin() as conn:
                conn.execute(text("SET lock_timeout = '20s'"))
                conn.execute(text(f"TRUNCATE {tables}{' RESTART IDENTITY' if restart_ids else ''} CASCADE"))
            return
        except OperationalError as error:
            if "deadlock detected" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.2)


@contextmanager
def world_app(app_config, clock, run_id: str, redis_client, tag: str, client_class):
    """An app for a module that shares one world across its cases (the access matrices): its own queue prefix,
    so no worker delivers the emails its requests cause; empty tables and Redis keys; the real clock."""
    application = create_app({**app_config, "CLOCK": clock, "RQ_QUEUE_PREFIX": f"{run_id}{tag}-"})
    application.test_client_class = client_class
    clock.reset()
    with application.app_context():
        empty_tables(restart_ids=True)
        clear_redis(redis_client, run_id)
        yield application
        _db.session.remove()


@pytest.fixture(name="db")
def world_db(world):
    """Replaces the per-test truncation in a module with a shared world: each case makes its own objects."""
    with world.app.app_context():
        yield _db
        _db.session.remove()
