"""The portal under gunicorn, as production runs it, with the benchmark hooks switched on."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.web import Session

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with 2 sync workers (the Dockerfile's command) on a free local port."""

    def __init__(self, out_dir: Path, stamp: str, workers: int = 2):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.query_log = out_dir / f"queries-{stamp}.jsonl"
        self.error_log = out_dir / f"gunicorn-{stamp}.log"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict:
        env = dict(os.environ)
        for name in ("DATABASE_URL", "REDIS_URL"):
            if not env.get(name):
                raise SystemExit(f"{name} must be set (bench/run.sh sets it)")
        env.update(
            SECRET_KEY=env.get("SECRET_KEY") or secrets.token_hex(32),
            PUBLIC_URL=self.base_url,
            BENCH_COUNT_QUERIES="1",
            BENCH_QUERY_LOG=str(self.query_log),
            # Keep the benchmark's queued emails and rate-limit counters apart from anything else on that Redis.
            RQ_QUEUE_PREFIX="bench-",
            RATELIMIT_KEY_PREFIX="bench",
        )
        return env

    def start(self) -> None:
        cmd = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers", str(self.workers),
            "--bind", f"127.0.0.1:{self.port}",
            "--access-logfile", "/dev/null",
            "--error-logfile", str(self.error_log),
            "bench.app:app",
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env(), stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}; see {self.error_log}")
            try:
                if Session(self.base_url, timeout=2).get("/healthz").status == 200 and len(self.worker_pids()) == 2:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"gunicorn did not answer /healthz within 60 s; see {self.error_log}")

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except OSError:
            return []

    def memory(self) -> list[dict]:
        """Peak and current resident memory of each worker, in MB (from /proc)."""
        found = []
        for pid in self.worker_pids():
            fields = {}
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    name, _, value = line.partition(":")
                    if name in ("VmHWM", "VmRSS"):
                        fields[name] = int(value.split()[0]) / 1024
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        fields["Pss"] = int(line.split()[1]) / 1024
            except OSError:
                continue
            mb = {name: round(fields.get(name, 0), 1) for name in ("VmHWM", "VmRSS", "Pss")}
            found.append({"pid": pid, "peak_rss_mb": mb["VmHWM"], "rss_mb": mb["VmRSS"], "pss_mb": mb["Pss"]})
        return found

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
