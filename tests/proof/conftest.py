"""Fixtures for the proof suite: an app wired to private Redis/SMTP/worker processes that tests break on purpose."""

import os
from types import SimpleNamespace

import pytest

from portal import create_app
from tests.conftest import PortalClient
from tests.support.services import PrivateRedis, SwitchableSink, WorkerProcess


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
        # Long enough that a busy machine still brings the mail server back before the last try.
        "EMAIL_RETRY_INTERVALS": "2,4,8",
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
