"""Fixtures for the proof suite: an app wired to private Redis/SMTP/worker processes that tests break on purpose."""

import os
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db as _db
from portal.models import OutboxEmail
from tests.conftest import PortalClient
from tests.proof.services import PrivateRedis, SwitchableSink, WorkerProcess


@pytest.fixture
def fragile(app_config, run_id, tmp_path, request):
    """App + private Redis + switchable SMTP sink + killable worker. Parametrize the sink delay via
    `@pytest.mark.parametrize("fragile", [0.2], indirect=True)`."""
    delay = getattr(request, "param", 0.0)
    redis = PrivateRedis()
    redis.start()
    sink = SwitchableSink(delay=delay)
    sink.up()
    config = {
        **app_config,
        "REDIS_URL": redis.url,
        "MAIL_PORT": str(sink.port),
        "RQ_QUEUE_PREFIX": f"{run_id}proof-",
        "RATELIMIT_KEY_PREFIX": f"{run_id}proof",
        "REGISTER_LIMIT": "1000 per hour",
        "OUTBOX_STALE_SECONDS": "3",
        "OUTBOX_DRAIN_INTERVAL": "1",
        "EMAIL_RETRY_INTERVALS": "1,1,1",
        "EMAIL_MAX_RETRIES": "3",
    }
    application = create_app(config)
    application.test_client_class = PortalClient
    worker = WorkerProcess({**os.environ, **config, "PYTHONUNBUFFERED": "1"}, tmp_path)
    env = SimpleNamespace(app=application, redis=redis, sink=sink, worker=worker, client=application.test_client())
    yield env
    worker.stop()
    sink.close()
    redis.close()


def outbox_states(app) -> dict[str, int]:
    with app.app_context():
        rows = _db.session.execute(select(OutboxEmail.state, func.count()).group_by(OutboxEmail.state)).all()
        _db.session.remove()
    return dict(rows)


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
