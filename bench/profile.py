"""Where one page spends its time, without a server: CPU time per request and the costliest functions.

    DATABASE_URL=… SECRET_KEY=x .venv/bin/python -m bench.profile bench_client /client/slots [--top 25]

Logs in as the user through the login form (Flask's test client), renders the page a few times to warm
up, then profiles 20 more requests. Uses the data of bench/generate.py.
"""

import argparse
import cProfile
import io
import pstats
import sys
import time

from bench import common


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("username")
    parser.add_argument("path")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)

    from portal import create_app

    app = create_app({"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    answer = client.post("/login", data={"login": args.username, "password": common.PASSWORD})
    if answer.status_code not in (302, 303):
        print(f"login as {args.username} failed: HTTP {answer.status_code}", file=sys.stderr)
        return 1
    for _ in range(5):
        client.get(args.path)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(args.requests):
        answer = client.get(args.path)
    cpu, wall = (time.process_time() - cpu) / args.requests, (time.perf_counter() - wall) / args.requests
    print(f"{args.path}: HTTP {answer.status_code}, {len(answer.data) / 1024:.1f} KB, "
          f"{cpu * 1000:.1f} ms CPU and {wall * 1000:.1f} ms wall per request (unprofiled)")  # fmt: skip

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.requests):
        client.get(args.path)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(r"portal/|templates/", args.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
