"""The consultations export in constant memory: many generated consultations downloaded from gunicorn, as
production serves them, while the web worker's resident memory is read from /proc. The figures are printed and
written to test-artifacts/export-memory.txt. EXPORT_MEMORY_ROWS sets another number of rows for a quicker run."""

import os
import threading
import time
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.factories import PASSWORD, make_user
from tests.proof.http import Browser, Gunicorn, server_env

pytestmark = [pytest.mark.slow, pytest.mark.serial]

ROWS = int(os.environ.get("EXPORT_MEMORY_ROWS") or 1_000_000)
SLOTS = 10_000
LIMIT_MB = 200
BASE = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
REPORT = Path(__file__).resolve().parents[2] / "test-artifacts" / "export-memory.txt"
FORMULA = '=HYPERLINK("http://evil.example/","Click me")'


@pytest.fixture
def server(app_config, run_id, tmp_path):
    # A sync worker is killed after --timeout seconds (30 by default) without a word to its master, and one long
    # response is silence: a million rows take longer than that on a busy test machine.
    env = server_env(
        app_config,
        RQ_QUEUE_PREFIX=f"{run_id}export-",
        RATELIMIT_KEY_PREFIX=f"{run_id}export",
        GUNICORN_CMD_ARGS="--timeout 600",
    )
    web = Gunicorn(env, tmp_path, workers=1, name="export").start()
    yield web
    web.stop()


def generate(db, rows: int) -> int:
    """`rows` consultations on SLOTS slots of one specialist, one second apart from BASE; the first one's comment
    is a formula. Rejected and cancelled only (any number of those may share a slot)."""
    specialist, client = make_user("specialist", username="mem_spec"), make_user("client", username="mem_client")
    db.session.execute(
        text(
            """
            INSERT INTO slots (specialist_id, starts_at, ends_at, created_at, updated_at)
            SELECT :specialist, :base + n * interval '1 hour', :base + n * interval '1 hour' + interval '50 minutes',
                   :base, :base
            FROM generate_series(1, :slots) n;
            INSERT INTO consultations (slot_id, client_id, status, cancel_reason, cancel_comment, reject_reason,
                                       created_at, rejected_at, cancelled_at, updated_at)
            SELECT first.id + n % :slots, :client,
                   CASE WHEN n % 2 = 0 THEN 'rejected' ELSE 'cancelled' END,
                   CASE WHEN n % 2 = 1 THEN 'Personal' END,
                   CASE WHEN n = 0 THEN :formula WHEN n % 2 = 1 THEN 'Не смогу прийти, простите' END,
                   CASE WHEN n % 2 = 0 THEN 'Fully booked that day' END,
                   :base - interval '3 days' + n * interval '1 second',
                   CASE WHEN n % 2 = 0 THEN :base END, CASE WHEN n % 2 = 1 THEN :base END, :base
            FROM generate_series(0, :rows - 1) n, (SELECT min(id) AS id FROM slots) first;
            """
        ),
        {
            "specialist": specialist.id,
            "client": client.id,
            "base": BASE,
            "slots": SLOTS,
            "rows": rows,
            "formula": FORMULA,
        },
    )
    db.session.commit()
    return db.session.scalar(text("SELECT count(*) FROM consultations"))


def worker_pid(web: Gunicorn) -> int:
    children = Path(f"/proc/{web.process.pid}/task/{web.process.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


class Sampler(threading.Thread):
    """Reads the process's resident memory every 20 ms until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.done = pid, [], threading.Event()

    def run(self):
        while not self.done.is_set():
            self.samples.append(rss_mb(self.pid))
            time.sleep(0.02)


def test_the_export_streams_in_constant_memory(server, db):
    admin = make_user("admin", username="root")
    started = time.monotonic()
    assert generate(db, ROWS) == ROWS
    generated = time.monotonic() - started
    browser = Browser(server.url)
    assert browser.login(admin.username, PASSWORD).status == 302
    pid = worker_pid(server)
    assert browser.get("/admin").status == 200  # the worker has imported and rendered everything once
    before = rss_mb(pid)

    sampler = Sampler(pid)
    sampler.start()
    started = time.monotonic()
    connection = HTTPConnection("127.0.0.1", server.port, timeout=120)
    cookies = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    connection.request(
        "GET", "/admin/export/consultations.csv?from=2025-12-01&to=2026-02-28", headers={"Cookie": cookies}
    )
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Transfer-Encoding") == "chunked"
    first = response.read(65536)
    lines, size = first.count(b"\n"), len(first)
    while chunk := response.read(65536):
        lines += chunk.count(b"\n")
        size += len(chunk)
    connection.close()
    took = time.monotonic() - started
    sampler.done.set()
    sampler.join()

    peak = max(sampler.samples)
    figures = (
        f"export of {ROWS:,} consultations through gunicorn (1 sync worker): {size / 2**20:.0f} MB of CSV in "
        f"{took:.1f} s ({ROWS / took:,.0f} rows/s); worker RSS {before:.0f} MB before, peak {peak:.0f} MB "
        f"({len(sampler.samples)} samples); data generated in {generated:.0f} s"
    )
    print(figures)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(figures + "\n", encoding="utf-8")
    assert lines == ROWS + 1  # the header and every consultation
    assert first.startswith(b"\xef\xbb\xbfid,status,slot_start,")
    assert b'"\'=HYPERLINK(""http://evil.example/"",""Click me"")"' in first  # neutralised, CSV-quoted
    assert peak < LIMIT_MB, figures
    assert server.errors() == [], server.log()[-3000:]
