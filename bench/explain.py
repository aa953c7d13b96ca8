"""EXPLAIN ANALYZE of the SQL the pages actually ran (captured by bench/debug_queries.py)."""

import json
import re
from pathlib import Path

import psycopg2


def captured(log_path: Path) -> dict[str, list[str]]:
    """Page path → the statements its captured request ran (the last capture of each path wins)."""
    pages: dict[str, list[str]] = {}
    if not log_path.exists():
        return pages
    for line in log_path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        pages[entry["path"]] = entry["statements"]
    return pages


def _explain(cur, sql: str) -> tuple[float, str]:
    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
    plan = "\n".join(row[0] for row in cur.fetchall())
    found = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return (float(found.group(1)) if found else 0.0), plan


def explain_pages(database_url: str, log_path: Path, paths: dict[str, str]) -> dict:
    """For each page key → its statements with execution time and plan (SELECTs only, run twice, second kept)."""
    statements = captured(log_path)
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    result = {}
    try:
        with conn.cursor() as cur:
            for key, path in paths.items():
                explained = []
                for sql in statements.get(path, []):
                    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                        explained.append({"sql": sql, "ms": None, "plan": None})
                        continue
                    _explain(cur, sql)
                    ms, plan = _explain(cur, sql)
                    explained.append({"sql": sql, "ms": ms, "plan": plan})
                result[key] = explained
    finally:
        conn.close()
    return result


def slowest(explained: list[dict]) -> dict | None:
    timed = [e for e in explained if e["ms"] is not None]
    return max(timed, key=lambda e: e["ms"]) if timed else None


def write_text(explained: dict, titles: dict[str, str], path: Path) -> None:
    """All plans, page by page, as one readable text file."""
    parts = []
    for key, items in explained.items():
        parts.append(f"===== {titles.get(key, key)} =====")
        for number, item in enumerate(items, 1):
            ms = "not explained (not a SELECT)" if item["ms"] is None else f"{item['ms']:.3f} ms"
            parts.append(f"--- statement {number}: {ms}\n{item['sql']}\n")
            if item["plan"]:
                parts.append(item["plan"] + "\n")
    path.write_text("\n".join(parts), encoding="utf-8")
