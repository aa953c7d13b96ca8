"""Targets of the performance issue, the results table and the JSON written for each run."""

import os
import platform

MAX_QUERIES = 4
MAX_RSS_MB = 150
MIN_WRITE_OPS = 100
BASELINES = ("hello", "hello_end")
DEEP_VS_FIRST = 0.9  # "a deep page as fast as page 1": at least 90 % of page 1's requests per second


def _verdicts(page, hello_rps: float, first_rps: float | None) -> dict:
    r = page.result
    if "rps" not in r:
        return {"measured": False}
    baseline = r.get("adjacent_baseline_rps") or hello_rps
    ratio = r["rps"] / baseline if baseline else 0
    r["ratio_to_hello"] = round(ratio, 3)
    r["ratio_to_mean_hello"] = round(r["rps"] / hello_rps, 3) if hello_rps else None
    checks = {
        f"ratio >= {page.ratio_target:.0%}": ratio >= page.ratio_target,
        f"p99 <= {page.p99_target_ms:g} ms": r["p99_ms"] <= page.p99_target_ms,
        f"queries <= {MAX_QUERIES}": r["queries"] <= MAX_QUERIES,
        "no errors": r["non_2xx_3xx"] == 0 and r["socket_errors"] == 0,
    }
    if page.key == "slots_deep" and first_rps:
        checks[f"req/s >= {DEEP_VS_FIRST:.0%} of page 1"] = r["rps"] >= DEEP_VS_FIRST * first_rps
    return checks


def build(pages, writes, memory, explained, args, seconds: float) -> dict:
    baselines = [p.result["rps"] for p in pages if p.key in BASELINES and "rps" in p.result]
    hello_rps = sum(baselines) / len(baselines) if baselines else 0
    first = next((p for p in pages if p.key == "slots_first"), None)
    first_rps = first.result.get("rps") if first else None
    rows = []
    for page in pages:
        checks = {} if page.key in BASELINES else _verdicts(page, hello_rps, first_rps)
        slow = [e for e in explained.get(page.key, []) if e["ms"] is not None]
        rows.append({
            "key": page.key, "title": page.title, "path": page.path, **page.result, "notes": page.notes,
            "checks": checks, "sql_ms": [e["ms"] for e in slow],
        })  # fmt: skip
    peak = max((m["peak_rss_mb"] for m in memory), default=0)
    targets = {"worker peak RSS <= 150 MB": peak <= MAX_RSS_MB if memory else False}
    if writes and "error" not in writes:
        targets[f"writes >= {MIN_WRITE_OPS}/s"] = writes["ops_per_second"] >= MIN_WRITE_OPS
        targets["writes: zero 5xx"] = writes["http_5xx"] == 0 and writes["connection_errors"] == 0
        targets["writes: SPEC §9 invariants"] = not any(writes["violations"].values())
        targets["writes: one outbox row per status change"] = writes["outbox_ok"]
    return {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_avg": os.getloadavg()},
        "settings": {
            "scale": args.scale,
            "gunicorn_workers": 2,
            "connections": args.connections,
            "wrk_threads": args.threads,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "deep_next_links": args.deep,
        },  # fmt: skip
        "baseline_rps": round(hello_rps, 1),
        "pages": rows,
        "memory": memory,
        "writes": writes,
        "targets": targets,
        "explain": explained,
        "run_seconds": round(seconds, 1),
    }


def _mark(ok) -> str:
    return "ok" if ok else "MISS"


def print_table(results: dict) -> None:
    head = f"{'page':<40} {'req/s':>7} {'ratio':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'SQL':>4} {'err':>4}  verdict"
    print("\n" + head + "\n" + "-" * len(head))
    for row in results["pages"]:
        if "rps" not in row:
            print(f"{row['title']:<40} {'not measured: HTTP ' + str(row.get('status')):>50}")
            continue
        ratio = f"{row['ratio_to_hello']:.0%}" if "ratio_to_hello" in row else "-"
        misses = [name for name, ok in row["checks"].items() if not ok]
        verdict = "baseline" if row["key"] in BASELINES else ("ok" if not misses else "MISS " + "; ".join(misses))
        print(
            f"{row['title']:<40} {row['rps']:>7.0f} {ratio:>6} {row['p50_ms']:>6.1f}m {row['p95_ms']:>6.1f}m "
            f"{row['p99_ms']:>6.1f}m {row['queries']:>4} {row['non_2xx_3xx'] + row['socket_errors']:>4}  {verdict}"
        )
    print(
        "ratio = req/s ÷ /bench/hello req/s measured for 3 s just before the page "
        f"(the two long /bench/hello runs average {results['baseline_rps']:.0f} req/s)"
    )
    for m in results["memory"]:
        print(f"worker {m['pid']}: peak RSS {m['peak_rss_mb']} MB (now {m['rss_mb']} MB, PSS {m['pss_mb']} MB)")
    writes = results["writes"]
    if writes and "error" in writes:
        print(f"write scenario: not run to the end: {writes['error']}")
    elif writes:
        print(
            f"write scenario: {writes['bookings']} bookings + {writes['accepts']} accepts in {writes['seconds']} s"
            f" = {writes['ops_per_second']}/s; 5xx {writes['http_5xx']}"
        )
        for kind in ("request_posts", "accept_posts"):
            w = writes[kind]
            print(
                f"  {kind.replace('_', ' ')}: {w['count']}, HTTP {w['statuses']}, p50 {w['p50_ms']} ms, "
                f"p99 {w['p99_ms']} ms, SQL statements median {w['queries_median']} max {w['queries_max']}"
            )
        print(f"  invariants: {writes['violations']}; outbox {writes['outbox_rows']} rows"
              f" (expected {writes['outbox_expected']}): {writes['outbox_by_kind']}")  # fmt: skip
    for name, ok in results["targets"].items():
        print(f"{_mark(ok):>4}  {name}")
    scale = results["settings"].get("scale", 1)
    print(f"data at scale {scale}; run took {results['run_seconds']} s; load average {results['machine']['load_avg']}")


def markdown(results: dict) -> str:
    """The results table as Markdown (for bench/README.md): `python -m bench.report results-….json`."""
    lines = [
        "| page | req/s | hello req/s just before | ratio | p50 ms | p95 ms | p99 ms | SQL | errors | verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in results["pages"]:
        if "rps" not in row:
            lines.append(f"| {row['title']} | not measured: HTTP {row.get('status')} | | | | | | | | |")
            continue
        ratio = f"{row['ratio_to_hello']:.1%}" if "ratio_to_hello" in row else "–"
        misses = [name for name, ok in row["checks"].items() if not ok]
        verdict = "baseline" if row["key"] in BASELINES else ("ok" if not misses else "miss: " + "; ".join(misses))
        lines.append(
            f"| {row['title']} | {row['rps']:.0f} | {row.get('adjacent_baseline_rps', '–')} | {ratio} "
            f"| {row['p50_ms']:.1f} | {row['p95_ms']:.1f} "
            f"| {row['p99_ms']:.1f} | {row['queries']} | {row['non_2xx_3xx'] + row['socket_errors']} | {verdict} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys

    with open(sys.argv[1], encoding="utf-8") as source:
        print(markdown(json.load(source)))
