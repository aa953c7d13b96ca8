"""The portal as the benchmark serves it: `gunicorn bench.app:app` with BENCH_COUNT_QUERIES=1.

The same app as wsgi.py, with the benchmark hooks of bench/debug_queries.py installed on it. wrk sends thousands
of API requests a minute with one token: the per-token limit is raised out of its way (still counted in Redis).
"""

from bench import debug_queries
from portal import create_app

app = create_app({"API_RATE_LIMIT": "10000000 per minute"})
debug_queries.init_app(app)
