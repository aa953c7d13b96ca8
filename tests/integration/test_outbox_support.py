"""Private Redis, worker and SMTP processes for the email pipeline tests (this module holds no tests).

They are owned by the test that starts them, so it may stop them without disturbing the shared services.
"""

import os
import shutil
import subprocess
import sys
import time

import redis as redis_lib
from sqlalchemy import select

from portal.extensions import db
from portal.models import OutboxEmail
from tests.conftest import ROOT, SmtpSink, free_port


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll until predicate() is truthy; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def outbox_row(outbox_id: int) -> OutboxEmail:
    """The outbox row as the database has it now."""
    db.session.remove()
    return db.session.scalars(select(OutboxEmail).where(OutboxEmail.id == outbox_id)).one()


class PrivateRedis:
    """`redis-server --port N --save "" --appendonly no`, started and stopped by the test."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.binary = os.environ.get("TEST_REDIS_SERVER") or shutil.which("redis-server") or "redis-server"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis_lib.Redis(port=self.port, socket_connect_timeout=0.5)
        assert wait_until(lambda: _pings(client), timeout=10), "private redis-server did not start"
        client.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except redis_lib.RedisError:
        return False


class Worker:
    """A `flask worker` subprocess with its own environment."""

    def __init__(self, env: dict, log_path):
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        log.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def flask_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    """Run `flask --app wsgi <args>` as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


class FlakySink(SmtpSink):
    """An SMTP sink that answers `451` to the first `failures` messages, then accepts."""

    def __init__(self, failures: int):
        super().__init__()
        self.failures = failures
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.failures:
            self.refused += 1
            return "451 Requested action aborted: try again later"
        return await super().handle_DATA(server, session, envelope)


def closed_port() -> int:
    """A port nothing listens on."""
    return free_port()
