"""Benchmark hooks, off unless BENCH_COUNT_QUERIES is set in the environment.

When on:
- every response carries `X-Query-Count`, the number of SQL statements the request ran;
- a request sent with `X-Bench-Capture: 1` appends its statements (with their parameters bound) as JSON lines
  to the file named by BENCH_QUERY_LOG, so the benchmark can EXPLAIN ANALYZE exactly what a page runs;
- `/bench/hello` answers a fixed text without touching the database or the session: the baseline that the
  pages' throughput is compared with.
"""

import json
import os
import threading

from flask import Flask
from sqlalchemy import event

ENV_SWITCH = "BENCH_COUNT_QUERIES"
_state = threading.local()


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "").strip().lower() in {"1", "true", "yes", "on"}


def init_app(app: Flask) -> None:
    """Install the hooks when the environment asks for them; calling it twice is harmless."""
    if not enabled() or "debug_queries" in app.extensions:
        return
    app.extensions["debug_queries"] = True
    app.add_url_rule("/bench/hello", "bench_hello", hello)
    app.wsgi_app = _CountingMiddleware(app.wsgi_app, os.environ.get("BENCH_QUERY_LOG") or None)
    with app.app_context():
        from portal.extensions import db

        event.listen(db.engine, "before_cursor_execute", _record)


def hello():
    """The trivial route: no database, no session, no template."""
    return "hello\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


def _record(conn, cursor, statement, parameters, context, executemany):
    if getattr(_state, "count", None) is None:
        return
    _state.count += 1
    if _state.capture is not None:
        try:
            sql = cursor.mogrify(statement, parameters).decode()
        except Exception:  # not psycopg2 (SQLite): keep the statement and its parameters apart
            sql = f"{statement} -- {parameters!r}"
        _state.capture.append(sql)


class _CountingMiddleware:
    """Counts statements per request and adds the header just before the response starts."""

    def __init__(self, wsgi_app, log_path: str | None):
        self.wsgi_app = wsgi_app
        self.log_path = log_path

    def __call__(self, environ, start_response):
        _state.count = 0
        capture = self.log_path and environ.get("HTTP_X_BENCH_CAPTURE") == "1"
        _state.capture = [] if capture else None

        def counting_start_response(status, headers, exc_info=None):
            headers = [*headers, ("X-Query-Count", str(_state.count))]
            if _state.capture is not None:
                self._write(environ, status, _state.capture)
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, counting_start_response)
        finally:
            _state.count = None
            _state.capture = None

    def _write(self, environ, status, statements):
        path = environ.get("PATH_INFO", "") + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
        line = json.dumps({"path": path, "status": status, "statements": statements})
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(line + "\n")
