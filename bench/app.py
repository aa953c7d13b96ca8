"""The portal as the benchmark serves it: `gunicorn bench.app:app` with BENCH_COUNT_QUERIES=1.

The same app as wsgi.py, with the benchmark hooks of bench/debug_queries.py installed on it.
"""

from bench import debug_queries
from portal import create_app

app = create_app()
debug_queries.init_app(app)
