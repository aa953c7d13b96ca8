"""PostgreSQL restarted under load: friendly 503 pages while it is down, recovery by itself afterwards."""

import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

from portal import create_app
from portal.extensions import db as _db
from tests.factories import make_user
from tests.support.auth import post_login
from tests.support.paths import ROOT
from tests.support.services import PrivatePostgres
from tests.support.web import PortalClient

pytestmark = [pytest.mark.slow, pytest.mark.serial]


@pytest.fixture
def restartable(app_config, run_id):
    """The app on a PostgreSQL cluster of its own, migrated, with one client logged in."""
    pg = PrivatePostgres()
    pg.init_and_start()
    url = pg.url.rsplit("/", 1)[0] + "/portal"
    _create_database(pg.url)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x", "REDIS_URL": ""},
        check=True,
        capture_output=True,
    )
    application = create_app({**app_config, "DATABASE_URL": url, "RATELIMIT_KEY_PREFIX": f"{run_id}pg"})
    application.test_client_class = PortalClient
    with application.app_context():
        user = make_user("client")
        username = user.username
        _db.session.remove()
    yield pg, application, username
    with application.app_context():
        _db.engine.dispose()
    pg.close()


def _create_database(url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE portal")
    conn.close()


def test_restart_gives_friendly_503_then_recovers(restartable):
    pg, application, username = restartable
    clients = []
    for _ in range(4):
        c = application.test_client()
        response = post_login(c, username, "correct-horse-battery-42")
        assert response.status_code == 302
        clients.append(c)

    statuses: Counter = Counter()
    bodies_5xx: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def hammer(c):
        while not stop.is_set():
            r = c.get("/profile")
            with lock:
                statuses[r.status_code] += 1
                if r.status_code >= 500:
                    bodies_5xx.append(r.get_data(as_text=True))
            time.sleep(0.02)

    threads = [threading.Thread(target=hammer, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    time.sleep(0.5)
    pg.stop("fast")
    time.sleep(1.5)
    pg.start()
    restarted_at = time.monotonic()
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(10)

    # While it was down: 503s, each a page for people (no traceback), never a 500.
    assert statuses[503] > 0, statuses
    assert 500 not in statuses, statuses
    assert set(statuses) <= {200, 503}, statuses
    assert all("Traceback" not in b and "<html" in b.lower() for b in bodies_5xx)
    assert any("unavailable" in b.lower() for b in bodies_5xx)

    # Afterwards every client recovers by itself within seconds (stale pooled connections are replaced).
    deadline = restarted_at + 10
    for c in clients:
        while True:
            r = c.get("/profile")
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.status_code == 200, r.status_code
        assert username in r.get_data(as_text=True)
