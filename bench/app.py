"""The portal as the benchmark serves it: `gunicorn bench.app:app` with BENCH_COUNT_QUERIES=1.

The same app as wsgi.py; the benchmark hooks (portal/debug_queries.py) are installed here in case
create_app does not install them itself (installing them twice is harmless).
"""

from portal import create_app, debug_queries

app = create_app()
debug_queries.init_app(app)
