"""Measure the portal's pages and its write path at realistic size.

    DATABASE_URL=… REDIS_URL=… .venv/bin/python -m bench.run [--seconds 10] [--skip-writes] [--scale N]

Expects a database filled by bench/generate.py at the same --scale (bench/run.sh does everything: services,
data, this).
Starts gunicorn (2 workers) with the benchmark hooks, logs in as the named accounts, measures every page
with wrk at concurrency 16 against the trivial /bench/hello route, runs the write scenario, reads the
workers' peak memory, EXPLAIN ANALYZEs the pages' SQL, prints a table and writes bench/out/results-*.json.
"""

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg2

from bench import common, report
from bench.explain import explain_pages, write_text
from bench.generate import scale_from_env, sizes
from bench.pages import discover, measure, probe
from bench.server import Server
from bench.web import login
from bench.writes import run_writes

OUT = Path(__file__).resolve().parent / "out"
DEEP_NEXT_LINKS = 250  # at the standard size: 5,000 rows into the list of free slots


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="wrk duration per page")
    parser.add_argument("--warmup", type=float, default=2, help="wrk warm-up per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--scale", type=int, default=scale_from_env(), help="data size as a multiple (default: $BENCH_SCALE or 1)"
    )
    parser.add_argument(
        "--deep", type=int, help=f"Next links followed to reach the deep page (default: {DEEP_NEXT_LINKS} × scale)"
    )
    parser.add_argument("--write-seconds", type=float, default=20)
    parser.add_argument("--skip-writes", action="store_true")
    parser.add_argument("--only", nargs="*", help="measure only these page keys (hello is always measured)")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be 1 or more")
    # The deep page sits as far into the list, in time, at every scale: N times the rows, N times the links.
    args.deep = DEEP_NEXT_LINKS * args.scale if args.deep is None else args.deep

    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    database_url = os.environ.get("DATABASE_URL", "")
    mismatch = check_scale(database_url, args.scale)
    if mismatch:
        print(mismatch, file=sys.stderr)
        return 2
    server = Server(OUT, stamp)
    started = time.monotonic()
    print(f"==> data at scale {args.scale}; gunicorn (2 workers) on {server.base_url}", flush=True)
    server.start()
    try:
        sessions = {
            "client": login(server.base_url, common.CLIENT, common.PASSWORD),
            "specialist": login(server.base_url, common.SPECIALIST, common.PASSWORD),
            "admin": login(server.base_url, common.ADMIN, common.PASSWORD),
        }
        print(f"==> finding the pages (following up to {args.deep} Next links)", flush=True)
        pages = discover(sessions, args.deep)
        if args.only:
            pages = [p for p in pages if p.key.startswith("hello") or p.key in args.only]
        for page in pages:
            if probe(page, server.base_url):
                print(f"==> {page.title}: {page.path} ({page.result['queries']} queries)", flush=True)
                measure(page, server.base_url, args.seconds, args.warmup, args.connections, args.threads)
            else:
                print(f"==> {page.title}: {page.path} answered {page.result['status']}, skipped", flush=True)
        writes = None
        if not args.skip_writes:
            print(f"==> write scenario ({args.write_seconds:g} s)", flush=True)
            try:
                writes = run_writes(server.base_url, database_url, args.write_seconds)
            except Exception as exc:  # report a page that is not there yet; keep the read results
                writes = {"error": f"{type(exc).__name__}: {exc}"}
        memory = server.memory()
    finally:
        server.stop()
        forget_queued_emails()

    print("==> EXPLAIN ANALYZE of the pages' SQL", flush=True)
    measured = {p.key: p.path for p in pages if not p.key.startswith("hello")}
    if writes and "captured" in writes:
        measured.update({f"post_{kind}": path for kind, path in writes["captured"].items()})
    explained = explain_pages(database_url, server.query_log, measured)
    plans_file = OUT / f"explain-{stamp}.txt"
    titles = {p.key: f"{p.title}: {p.path}" for p in pages}
    titles.update({key: f"POST {path} (write scenario)" for key, path in measured.items() if key.startswith("post_")})
    write_text(explained, titles, plans_file)

    results = report.build(pages, writes, memory, explained, args, time.monotonic() - started)
    results_file = OUT / f"results-{stamp}.json"
    results_file.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    report.print_table(results)
    print(f"\nResults: {results_file}\nPlans:   {plans_file}")
    return 0


def check_scale(database_url: str, scale: int) -> str | None:
    """Why the data in the database is not the size asked for, or None when it is."""
    conn = psycopg2.connect(database_url)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FILTER (WHERE role = 'specialist'), count(*) FILTER (WHERE role = 'client') FROM users"
        )
        found = dict(zip(("specialists", "clients"), cur.fetchone(), strict=True))
    conn.close()
    wanted = {key: sizes(scale)[key] for key in found}
    if found != wanted:
        return (
            f"The database holds {found['specialists']:,} specialists and {found['clients']:,} clients; scale {scale}"
            f" means {wanted['specialists']:,} and {wanted['clients']:,}. Generate it again with --scale {scale}."
        )
    return None


def forget_queued_emails() -> None:
    """The scenario's emails were queued for a worker that is not running: drop them from Redis."""
    from redis import Redis
    from rq import Queue

    Queue("bench-emails", connection=Redis.from_url(os.environ["REDIS_URL"])).delete(delete_jobs=True)


if __name__ == "__main__":
    sys.exit(main())
