"""Private PostgreSQL, Redis, SMTP and worker processes that a fault test may stop, kill and restart
without disturbing the services the rest of the suite shares."""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_redis.executor import RedisExecutor

from tests.support.mail import SmtpSink
from tests.support.paths import ROOT, free_port

SERVICES = str(ROOT / "scripts" / "services.sh")


def _pg_bindir() -> str:
    found = os.environ.get("TEST_PG_BINDIR") or sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    return found


class PrivateRedis(RedisExecutor):
    """A `redis-server` of one test's own, on a port of its own, without persistence (pytest-redis's executor);
    stop() and start() keep the port and URL. Its socket, log and pid files go to `directory`."""

    def __init__(self, directory: Path):
        port = free_port()
        super().__init__(
            executable=shutil.which("redis-server") or "redis-server",
            databases=16,
            redis_timeout=0,
            loglevel="notice",
            host="127.0.0.1",
            port=port,
            datadir=directory,
            save="''",  # Redis reads `--save ''` as no snapshots: a restart starts empty, as a lost Redis would
        )
        self.url = f"redis://127.0.0.1:{port}/0"

    def close(self) -> None:
        self.stop()


class PrivatePostgres:
    """A throwaway cluster of its own (initdb), so a test can restart it."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="portal-pg-")
        os.chmod(self.dir, 0o755)
        runas = "postgres" if os.geteuid() == 0 else ""
        if runas:
            shutil.chown(self.dir, runas)
        self.env = {
            **os.environ,
            "TEST_PG_BINDIR": _pg_bindir(),
            "TEST_PG_DATADIR": os.path.join(self.dir, "data"),
            "TEST_PG_HOST": "127.0.0.1",
            "TEST_PG_PORT": str(self.port),
            "TEST_PG_SOCKET_DIR": self.dir,
            "TEST_PG_LOG": os.path.join(self.dir, "pg.log"),
            "TEST_PG_RUNAS": runas,
        }
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, command: str, *args: str):
        subprocess.run(["bash", SERVICES, command, *args], env=self.env, check=True, capture_output=True)

    def init_and_start(self):
        self._run("pg-init")
        self._run("pg-start")

    def start(self):
        self._run("pg-start")

    def stop(self, mode: str = "fast"):
        self._run("pg-stop", mode)

    def close(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class WorkerProcess:
    """`flask worker` as a separate process with its own environment, which a test may stop or kill -9.

    Each start writes its own log, `worker-<n>.log` under `log_dir`. `app` is the Flask app it runs (`--app`)."""

    def __init__(self, env: dict, log_dir: Path, app: str = "wsgi"):
        self.env = env
        self.app = app
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.logs = []

    def start(self):
        self.starts += 1
        log = open(self.log_dir / f"worker-{self.starts}.log", "wb")  # noqa: SIM115 (closed in stop/kill9)
        self.logs.append(log)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", self.app, "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        time.sleep(0.5)
        assert self.process.poll() is None, self.log()

    def kill9(self):
        """SIGKILL the worker and any work-horse it forked, mid-delivery."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self._close_logs()

    def _close_logs(self):
        for log in self.logs:
            log.close()
        self.logs.clear()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()
        self._close_logs()

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("worker-*.log")))


class SwitchableSink(SmtpSink):
    """An SMTP sink that can go down and come back on the same port; optionally slow."""

    def __init__(self, delay: float = 0.0):
        super().__init__()
        self.controller.loop.close()  # each up() gets a fresh controller and loop
        self.delay = delay
        self.running = False

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)

    def up(self):
        if not self.running:
            from aiosmtpd.controller import Controller

            self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
            self.controller.start()
            self.running = True

    def down(self):
        if self.running:
            self.controller.stop()
            if not self.controller.loop.is_closed():
                self.controller.loop.close()
            self.running = False

    def close(self):
        self.down()


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
