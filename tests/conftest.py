"""Fixtures: a real PostgreSQL database and Redis per test process, an SMTP sink, an RQ worker,
a live server and Chromium. Each test starts from empty tables and empty Redis keys."""

import itertools
import os
import subprocess
import sys
import threading
import time
import uuid

import psycopg2
import pytest
import redis as redis_lib
from pytest_redis import factories
from rq import Queue, Worker
from rq.registry import ScheduledJobRegistry
from sqlalchemy import event
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db as _db
from tests.support.auth import Auth
from tests.support.clock import FrozenClock, clock_start
from tests.support.database import clear_redis, empty_tables
from tests.support.mail import SmtpSink
from tests.support.paths import ROOT, SCREENSHOT_DIR, free_port
from tests.support.web import PortalClient

# Fixtures whose worker processes keep real time: TEST_CLOCK_AT cannot shift them, so their tests are skipped then.
# (The gunicorn tests are `serial`, which the shifted runs of scripts/test.sh leave out.)
REAL_TIME_FIXTURES = {"rq_worker", "worker_env", "fragile"}


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run the suite with `make test` (it starts PostgreSQL).", 2)
    return value


@pytest.fixture(scope="session")
def run_id(worker_id) -> str:
    return f"t{os.getpid()}{worker_id if worker_id != 'master' else ''}"


@pytest.fixture(scope="session")
def database_url(run_id):
    """A fresh database for this test process, migrated with the project's own migrations."""
    base = _require("TEST_DATABASE_URL")
    name = f"portal_{run_id}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + f"/{name}"
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "SECRET_KEY": "test", "REDIS_URL": ""},
        check=True,
        capture_output=True,
    )
    yield url
    with admin.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close()


@pytest.fixture
def empty_database():
    """The URL of a new, empty PostgreSQL database (no migrations applied), dropped afterwards."""
    base = _require("TEST_DATABASE_URL")
    name = f"portal_empty_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# Each test process (each xdist worker) runs a Redis of its own, started and stopped by pytest-redis.
redis_server = factories.redis_proc(port=None)


@pytest.fixture(scope="session")
def redis_url(redis_server):
    return f"redis://{redis_server.host}:{redis_server.port}/0"


@pytest.fixture(scope="session")
def smtp_sink():
    sink = SmtpSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


@pytest.fixture(scope="session")
def app_config(database_url, redis_url, run_id, smtp_sink):
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "REDIS_URL": redis_url,
        "RQ_QUEUE_PREFIX": f"{run_id}-",
        "RATELIMIT_KEY_PREFIX": run_id,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_sink.port),
        "PUBLIC_URL": "http://portal.test",
        "EMAIL_RETRY_INTERVALS": "1,1,2",
        "EMAIL_MAX_RETRIES": "3",
        # The shared worker never drains: a test that needs draining runs a worker of its own.
        "OUTBOX_DRAIN_INTERVAL": "3600",
        # Nor does it sweep (reminders, expiry): a test that needs the periodic jobs runs a worker of its own.
        "PERIODIC_JOBS": "off",
        "OUTBOX_STALE_SECONDS": "5",
        # Webhook receivers of the tests listen on 127.0.0.1 (tests/support/webhooks.py); a test of the
        # address check turns this off. Retries are short for the tests whose worker keeps real time.
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_RETRY_INTERVALS": "1,1,2,2,2,2,2",
    }


@pytest.fixture(scope="session")
def session_clock():
    return FrozenClock(clock_start(os.environ.get("TEST_CLOCK_AT")))


def pytest_collection_modifyitems(config, items):
    """With a shifted clock, skip the tests whose worker processes keep real time."""
    if not os.environ.get("TEST_CLOCK_AT"):
        return
    real_time = pytest.mark.skip(reason="TEST_CLOCK_AT: this test's worker or server process runs on real time")
    for item in items:
        if REAL_TIME_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(real_time)


@pytest.fixture(scope="session")
def app(app_config, session_clock):
    application = create_app({**app_config, "CLOCK": session_clock})
    application.test_client_class = PortalClient
    return application


@pytest.fixture(scope="session")
def redis_client(redis_url):
    return redis_lib.Redis.from_url(redis_url)


# The process id of the session's shared worker, once it runs.
SHARED_WORKER: dict = {}


def _settle_shared_worker(client, prefix: str, pid: int, timeout: float = 60.0) -> None:
    """Leave the shared worker with nothing of this test: retries it scheduled are dropped, and this waits until
    no job waits in its queues and it holds none (seen twice in a row, so a job between the queue and the
    worker's hands is not missed). Workers that tests start and kill on purpose are not waited for."""
    queues = [Queue(prefix + name, connection=client) for name in ("emails", "webhooks", "default")]
    for queue in queues:
        scheduled = ScheduledJobRegistry(queue=queue)
        for job_id in scheduled.get_job_ids():
            scheduled.remove(job_id, delete_job=True)

    def busy() -> bool:
        shared = [worker for worker in Worker.all(connection=client) if worker.pid == pid]
        return any(worker.get_current_job_id() for worker in shared) or any(queue.count for queue in queues)

    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        if time.monotonic() > deadline:
            raise AssertionError("the shared RQ worker did not finish this test's jobs in time")
        quiet = 0 if busy() else quiet + 1
        time.sleep(0.02)


# Numbers the queues of tests that do not use the shared worker.
TEST_NUMBER = itertools.count(1)


@pytest.fixture(autouse=True)
def db(request, app, app_config, redis_client, run_id, session_clock):
    """Every test starts with empty tables whose ids start at 1 again, empty Redis keys and the real clock.

    Emails and other jobs of one test never reach another test. A test that does not ask for the shared worker
    queues its jobs under a prefix of its own, which no worker serves (a test that sends emails asks for the
    worker, or drives delivery itself). A test that uses the shared worker ends by dropping the retries it
    scheduled and waiting until the worker has finished its jobs, so the next test starts with none in flight."""
    shared = "rq_worker" in request.fixturenames
    app.config["RQ_QUEUE_PREFIX"] = app_config["RQ_QUEUE_PREFIX"] if shared else f"{run_id}-q{next(TEST_NUMBER)}-"
    session_clock.reset()
    with app.app_context():
        empty_tables(restart_ids=True)
        clear_redis(redis_client, run_id)
        yield _db
        _db.session.remove()
        if shared:
            _settle_shared_worker(redis_client, app.config["RQ_QUEUE_PREFIX"], SHARED_WORKER["pid"])


@pytest.fixture
def clock(session_clock):
    """Freeze time for the test (app, live server and worker-less code share it)."""
    yield session_clock
    session_clock.reset()


@pytest.fixture
def frozen(clock, request):
    """The clock frozen at the test module's NOW."""
    clock.set(request.module.NOW)
    return clock


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def count_queries(app):
    """Counts SQL statements executed inside the `with` block: `with count_queries() as q: ...; q.count`."""

    class Counter:
        def __init__(self):
            self.statements: list[str] = []

        @property
        def count(self) -> int:
            return len(self.statements)

        def __enter__(self):
            event.listen(_db.engine, "before_cursor_execute", self._record)
            return self

        def __exit__(self, *exc):
            event.remove(_db.engine, "before_cursor_execute", self._record)

        def _record(self, conn, cursor, statement, *args):
            self.statements.append(statement)

    with app.app_context():
        yield Counter


@pytest.fixture(scope="session")
def worker_env(app_config):
    env = {**os.environ, **app_config, "PYTHONUNBUFFERED": "1"}
    env.pop("FLASK_APP", None)
    return env


@pytest.fixture(scope="session")
def rq_worker(worker_env, tmp_path_factory):
    """A real `flask worker` process (RQ with scheduler) delivering to the SMTP sink."""
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    log = open(log_path, "wb")  # noqa: SIM115 (closed at teardown)
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=worker_env, stdout=log, stderr=log
    )
    time.sleep(1.0)
    assert process.poll() is None, log_path.read_text()
    SHARED_WORKER["pid"] = process.pid
    process.log_path = log_path
    yield process
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def mail(smtp_sink):
    """The SMTP sink, emptied for this test."""
    smtp_sink.clear()
    return smtp_sink


class LiveServer:
    def __init__(self, application):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server("127.0.0.1", self.port, application, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over HTTP in a thread, for the browser."""
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) with English preferred."""
    context = browser.new_context(base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def new_page(browser, live_server):
    """Factory for extra independent browser contexts: new_page(locale="ru-RU", javascript=True)."""
    contexts = []

    def make(locale: str = "en-US", javascript: bool = True, width: int = 1280, height: int = 900):
        context = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            java_script_enabled=javascript,
            viewport={"width": width, "height": height},
        )
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    """screenshot(page, "name") saves a full-page PNG under test-artifacts/screenshots/."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def take(pg, name: str):
        path = SCREENSHOT_DIR / f"{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return take
