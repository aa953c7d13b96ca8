"""Does answering a reset or resend request take longer when the address has an account? (Not a test.)

    .venv/bin/python -m bench.enumeration [--requests 50] [--warmup 10]

Serves the portal with gunicorn as production does (2 sync workers, bench/server.py), then times, from a
client on the same machine, POSTs of /reset-password and /confirm/resend for an address with an account
(confirmed for reset, unconfirmed for resend: the cases that send an email) and for two unknown ones, in
rotating order so drift on a shared machine touches all alike. Prints the median and p90 of each and the
difference of the medians, known minus unknown (the target: within 1 ms), beside the same difference between
the two unknown addresses, which shows how much the machine's noise alone moves a median. Then lets the
outbox drain handle the requests and checks that only the known addresses got an email.

Database and Redis: DATABASE_URL and REDIS_URL from the environment (an empty database is best: it gets
two accounts and the requests), or else a throwaway PostgreSQL (fsync and synchronous commit on, as in
production) and Redis on free local ports, started with scripts/services.sh and removed at the end.
"""

import argparse
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.server import Server, free_port
from bench.web import Session

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent / "out"
SERVICES = str(ROOT / "scripts" / "services.sh")
KNOWN = {"reset": "enum.known@example.com", "resend": "enum.waiting@example.com"}
UNKNOWN = "enum.nobody@example.com"
UNKNOWN_2 = "enum.nobody.2@example.com"
PATHS = {"reset": "/reset-password", "resend": "/confirm/resend"}
TARGET_MS = 1.0
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Throwaway:
    """PostgreSQL and Redis of this run only, on free ports, with production durability settings."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="portal-enumeration-")
        os.chmod(self.dir, 0o755)  # noqa: S103 (PostgreSQL runs as its own user and must reach it)
        runas = "postgres" if os.geteuid() == 0 else ""
        if runas:
            shutil.chown(self.dir, runas)
        pg_port, redis_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "TEST_PG_BINDIR": sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1],
            "TEST_PG_DATADIR": f"{self.dir}/data",
            "TEST_PG_HOST": "127.0.0.1",
            "TEST_PG_PORT": str(pg_port),
            "TEST_PG_SOCKET_DIR": self.dir,
            "TEST_PG_LOG": f"{self.dir}/pg.log",
            "TEST_PG_RUNAS": runas,
            "TEST_REDIS_SERVER": shutil.which("redis-server") or "redis-server",
            "TEST_REDIS_HOST": "127.0.0.1",
            "TEST_REDIS_PORT": str(redis_port),
            "TEST_REDIS_DIR": f"{self.dir}/redis",
            "TEST_REDIS_PIDFILE": f"{self.dir}/redis/redis.pid",
        }
        self.database_url = f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"

    def _run(self, *args: str) -> None:
        subprocess.run(["bash", SERVICES, *args], env=self.env, check=True, capture_output=True)

    def start(self) -> None:
        self._run("pg-init")
        # services.sh makes a fast, unsafe test cluster; production pays for real commits, and so do we.
        conf = Path(self.env["TEST_PG_DATADIR"]) / "postgresql.conf"
        subprocess.run(
            ["runuser", "-u", "postgres", "--", "tee", "-a", str(conf)]
            if self.env["TEST_PG_RUNAS"]
            else ["tee", "-a", str(conf)],
            input=b"fsync = on\nfull_page_writes = on\nsynchronous_commit = on\n",
            check=True,
            capture_output=True,
        )
        self._run("pg-start")
        self._run("redis-start")

    def stop(self) -> None:
        for command in (("redis-stop",), ("pg-stop", "immediate")):
            subprocess.run(["bash", SERVICES, *command], env=self.env, capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def prepare_database() -> None:
    """Apply the migrations and create the two accounts (once)."""
    env = {**os.environ, "SECRET_KEY": os.environ.get("SECRET_KEY") or "enumeration"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    from portal import create_app
    from portal.clock import utcnow
    from portal.extensions import db
    from portal.models import User
    from portal.security import hash_password
    from portal.services.accounts import find_by_email

    app = create_app({"SECRET_KEY": env["SECRET_KEY"]})
    with app.app_context():
        for username, email, confirmed in [
            ("enum_known", KNOWN["reset"], True),
            ("enum_waiting", KNOWN["resend"], False),
        ]:
            if find_by_email(email) is None:
                db.session.add(
                    User(
                        username=username,
                        email=email,
                        password_hash=hash_password("enumeration-Pass-2026!"),
                        role="client",
                        confirmed_at=utcnow() if confirmed else None,
                    )
                )
        db.session.commit()
        db.session.remove()


def time_requests(base_url: str, kind: str, count: int, warmup: int) -> dict[str, list[float]]:
    """Milliseconds per POST for the known address and two unknown ones, in rotating order.

    The second unknown address is the control: what the two unknown ones differ by is the machine's noise.
    """
    browser = Session(base_url)
    token = CSRF.search(browser.get(PATHS[kind]).text).group(1)
    addresses = [("known", KNOWN[kind]), ("unknown", UNKNOWN), ("unknown 2", UNKNOWN_2)]
    timings = {label: [] for label, _ in addresses}
    for n in range(warmup + count):
        for label, email in addresses[n % 3 :] + addresses[: n % 3]:
            started = time.perf_counter()
            response = browser.post(PATHS[kind], {"email": email, "csrf_token": token})
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 302 or response.headers.get("Location") != "/login":
                raise SystemExit(f"{kind} {label}: answered {response.status} {response.headers.get('Location')}")
            if n >= warmup:
                timings[label].append(elapsed)
    return timings


def emails_written() -> dict[str, int]:
    """Let the outbox drain handle every request (as the worker would), then count the emails per recipient."""
    from sqlalchemy import func, select

    from portal import create_app
    from portal.extensions import db
    from portal.models import OutboxEmail
    from portal.outbox.drain import drain_outbox

    app = create_app({"SECRET_KEY": "enumeration", "RQ_QUEUE_PREFIX": "bench-"})
    with app.app_context():
        drain_outbox(stale_seconds=0)
        rows = db.session.execute(select(OutboxEmail.recipient, func.count()).group_by(OutboxEmail.recipient)).all()
        db.session.remove()
    return dict(rows)


def report(kind: str, timings: dict[str, list[float]]) -> str:
    """Print the medians and their differences; returns "met", "NOT met" or "inconclusive" (too noisy)."""
    medians = {}
    for label, values in timings.items():
        values = sorted(values)
        medians[label] = statistics.median(values)
        p90 = values[int(0.9 * (len(values) - 1))]
        print(f"  {kind:<6} {label:<9} n={len(values):<3} median {medians[label]:6.2f} ms   p90 {p90:6.2f} ms")
    difference = medians["known"] - medians["unknown"]
    noise = medians["unknown 2"] - medians["unknown"]
    print(f"  {kind:<6} known - unknown: {difference:+.2f} ms   (control: unknown 2 - unknown: {noise:+.2f} ms)")
    # The requests of one round run back to back: their differences cancel slower swings of the machine's load.
    paired = statistics.median(k - u for k, u in zip(timings["known"], timings["unknown"], strict=True))
    paired_noise = statistics.median(k - u for k, u in zip(timings["unknown 2"], timings["unknown"], strict=True))
    print(f"  {kind:<6} median of per-round differences: {paired:+.2f} ms   (control: {paired_noise:+.2f} ms)")
    if abs(difference) <= TARGET_MS:
        return "met"
    return "inconclusive" if abs(noise) > TARGET_MS else "NOT met"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="timed requests per address and form")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests first, per address and form")
    args = parser.parse_args(argv)
    services = None
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        services = Throwaway()
        services.start()
        os.environ.update(DATABASE_URL=services.database_url, REDIS_URL=services.redis_url)
    # One address sends every request: the per-address limit on reset requests must not answer 429.
    os.environ["RESET_LIMIT"] = "1000000 per hour"
    server = None
    try:
        prepare_database()
        OUT.mkdir(exist_ok=True)
        server = Server(OUT, time.strftime("enumeration-%Y%m%d-%H%M%S"))
        server.start()
        print(f"gunicorn, 2 sync workers, {args.requests} timed requests per address (after {args.warmup} untimed):")
        verdicts = {
            kind: report(kind, time_requests(server.base_url, kind, args.requests, args.warmup)) for kind in PATHS
        }
        server.stop()
        sent = emails_written()
        print(f"  emails written once handled: {sent or 'none'}")
        if set(sent) != set(KNOWN.values()):
            print("  WRONG: only the two known addresses may get emails")
            return 1
        print(f"  target (medians within {TARGET_MS:g} ms): {', '.join(f'{k} {v}' for k, v in verdicts.items())}")
        if "inconclusive" in verdicts.values():
            print("  (inconclusive: the two unknown addresses differ by more than the target; the machine is busy)")
        return 0 if set(verdicts.values()) == {"met"} else 1
    finally:
        if server is not None:
            server.stop()
        from redis import Redis
        from rq import Queue

        Queue("bench-emails", connection=Redis.from_url(os.environ["REDIS_URL"])).delete(delete_jobs=True)
        if services is not None:
            services.stop()


if __name__ == "__main__":
    sys.exit(main())
