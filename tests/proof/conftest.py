"""Fixtures for the proof suite: an app wired to private Redis/SMTP/worker processes that tests break on purpose."""

import fcntl
import os
from collections import Counter
from types import SimpleNamespace

import pytest

from portal import create_app
from tests.support.auth import post_login
from tests.support.paths import ROOT
from tests.support.services import PrivateRedis, SwitchableSink, WorkerProcess
from tests.support.web import PortalClient


@pytest.fixture
def fragile(app_config, run_id, tmp_path, request):
    """App + private Redis + switchable SMTP sink + killable worker. Parametrize the sink delay via
    `@pytest.mark.parametrize("fragile", [0.2], indirect=True)`."""
    delay = getattr(request, "param", 0.0)
    redis = PrivateRedis(tmp_path)
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
        # A receiver failing on purpose is not disabled if the test's process is slow to let it recover.
        "WEBHOOK_DISABLE_AFTER": "1000",
    }
    application = create_app(config)
    application.test_client_class = PortalClient
    worker = WorkerProcess({**os.environ, **config, "PYTHONUNBUFFERED": "1"}, tmp_path)
    env = SimpleNamespace(app=application, redis=redis, sink=sink, worker=worker, client=application.test_client())
    yield env
    worker.stop()
    sink.close()
    redis.close()


# The fuzzing proofs' fixtures (their strategies and helpers: tests/support/fuzz.py).
FUZZ_REPORT = ROOT / "test-artifacts" / "fuzz-forms.txt"


@pytest.fixture(scope="session")
def fuzz_app(app_config, run_id, session_clock):
    """The portal with a queue of its own that no worker reads: emails the fuzzing causes stay put in the outbox,
    so a worker left running by another test can never change a row between two fingerprints."""
    application = create_app({**app_config, "CLOCK": session_clock, "RQ_QUEUE_PREFIX": f"{run_id}fuzz-"})
    application.test_client_class = PortalClient
    return application


@pytest.fixture
def new_client(fuzz_app):
    """Factory of independent browser-like clients, optionally logged in as a user."""

    def make(user=None):
        client = fuzz_app.test_client()
        if user is not None:
            response = post_login(client, user.username)
            assert response.status_code == 302, response.status_code
        return client

    return make


class Tally(Counter):
    """Outcome counts, plus `state` for what a test keeps between its examples."""

    def __init__(self):
        super().__init__()
        self.state = {}


@pytest.fixture
def tally(request):
    """Counts the examples of a test by outcome, printed and written to test-artifacts/fuzz-forms.txt."""
    counts = Tally()
    yield counts
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    line = f"{request.node.name}: {sum(counts.values())} examples ({outcomes})"
    print(line)
    # One line per test, replaced on each run (tests may finish in any order, in several processes).
    FUZZ_REPORT.parent.mkdir(parents=True, exist_ok=True)
    with FUZZ_REPORT.open("a+", encoding="utf-8") as report:
        fcntl.flock(report, fcntl.LOCK_EX)
        report.seek(0)
        kept = [old for old in report.read().splitlines() if not old.startswith(f"{request.node.name}:")]
        report.seek(0)
        report.truncate()
        report.write("\n".join(sorted([*kept, line])) + "\n")
