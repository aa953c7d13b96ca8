"""SPEC §9 promises checked in SQL after the write scenario, and on freshly generated data:

    DATABASE_URL=… .venv/bin/python -m bench.invariants [--scale N]

checks the row counts of bench/generate.py at that scale, the SPEC §9 promises and the generator's own
rules (no client with two accepted consultations at overlapping times, timestamps in order); exits 1 when
any of them fails.
"""

import argparse
import os
import sys

CHECKS = {
    "slots_with_two_accepted": """
        SELECT count(*) FROM (
            SELECT slot_id FROM consultations WHERE status = 'accepted' GROUP BY slot_id HAVING count(*) > 1
        ) AS doubled""",
    "overlapping_live_slots": """
        SELECT count(*) FROM (
            SELECT starts_at, lag(ends_at) OVER (PARTITION BY specialist_id ORDER BY starts_at) AS previous_end
            FROM slots WHERE deleted_at IS NULL
        ) AS ordered WHERE previous_end > starts_at""",
    "two_active_requests_same_client_and_slot": """
        SELECT count(*) FROM (
            SELECT 1 FROM consultations WHERE status IN ('pending', 'accepted')
            GROUP BY slot_id, client_id HAVING count(*) > 1
        ) AS doubled""",
    "pending_left_beside_an_accepted": """
        SELECT count(*) FROM consultations p JOIN consultations a ON a.slot_id = p.slot_id
        WHERE p.status = 'pending' AND a.status = 'accepted'""",
}


# The generator's rules beyond SPEC §9 (bench/gen_consultations.py); checked on generated data only.
DATA_CHECKS = {
    "client_with_overlapping_accepted": """
        SELECT count(*) FROM (
            SELECT c.client_id, s.starts_at, lag(s.ends_at) OVER (PARTITION BY c.client_id ORDER BY s.starts_at)
                   AS previous_end
            FROM consultations c JOIN slots s ON s.id = c.slot_id WHERE c.status = 'accepted'
        ) AS ordered WHERE previous_end > starts_at""",
    "request_before_slot_created_or_after_now": """
        SELECT count(*) FROM consultations c JOIN slots s ON s.id = c.slot_id
        WHERE c.created_at < s.created_at
           OR greatest(c.created_at, c.accepted_at, c.rejected_at, c.cancelled_at, c.updated_at) > now()""",
    "accepted_or_pending_on_deleted_slot": """
        SELECT count(*) FROM consultations c JOIN slots s ON s.id = c.slot_id
        WHERE s.deleted_at IS NOT NULL AND c.status IN ('pending', 'accepted')""",
}


def _one(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def check(conn, before: dict, writer_ids: list[int], elapsed: float) -> dict:
    """Counts of what the scenario did and of broken promises (all of which must be 0)."""
    since = before["since"]
    created, accepted, rejected = _one(
        conn,
        """SELECT count(*) FILTER (WHERE c.created_at >= %s), count(*) FILTER (WHERE c.accepted_at >= %s),
                  count(*) FILTER (WHERE c.rejected_at >= %s)
           FROM consultations c JOIN slots s ON s.id = c.slot_id WHERE s.specialist_id = ANY(%s)""",
        (since, since, since, writer_ids),
    )
    with conn.cursor() as cur:
        cur.execute("SELECT kind, count(*) FROM outbox_emails WHERE id > %s GROUP BY kind", (before["outbox"] or 0,))
        outbox = dict(cur.fetchall())
    violations = {name: _one(conn, sql)[0] for name, sql in CHECKS.items()}
    # One email per status change: each new request, each acceptance and each rejection it caused.
    expected_outbox = created + accepted + rejected
    warmup = 1  # one request and its acceptance made before the clock started, to read the forms
    return {
        "bookings": created - warmup,
        "accepts": accepted - warmup,
        "rejections_by_accept": rejected,
        "ops_per_second": round((created - warmup + accepted - warmup) / elapsed, 1),
        "violations": violations,
        "outbox_rows": sum(outbox.values()),
        "outbox_by_kind": outbox,
        "outbox_expected": expected_outbox,
        "outbox_ok": sum(outbox.values()) == expected_outbox,
    }


def check_generated(conn, scale: int) -> dict:
    """Row counts against bench/generate.py's sizes at this scale, and every check above (all must be 0)."""
    from bench.generate import sizes

    wanted = sizes(scale)
    found = dict(
        zip(
            ("specialists", "clients", "slots", "consultations"),
            _one(
                conn,
                """SELECT (SELECT count(*) FROM users WHERE role = 'specialist'),
                          (SELECT count(*) FROM users WHERE role = 'client'),
                          (SELECT count(*) FROM slots), (SELECT count(*) FROM consultations)""",
            ),
            strict=True,
        )
    )
    counts = {table: {"found": found[table], "wanted": wanted[table]} for table in found}
    checks = {name: _one(conn, sql)[0] for name, sql in {**CHECKS, **DATA_CHECKS}.items()}
    return {"counts": counts, "violations": checks}


def main(argv=None) -> int:
    import psycopg2

    from bench.generate import scale_from_env

    parser = argparse.ArgumentParser(description="Check generated benchmark data.")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--scale", type=int, default=scale_from_env())
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or give --database-url")
    conn = psycopg2.connect(args.database_url)
    result = check_generated(conn, args.scale)
    conn.close()
    ok = True
    for table, count in result["counts"].items():
        good = count["found"] == count["wanted"]
        ok &= good
        print(f"{'ok' if good else 'FAIL':>4}  {table}: {count['found']:,} (scale {args.scale}: {count['wanted']:,})")
    for name, broken in result["violations"].items():
        ok &= broken == 0
        print(f"{'ok' if broken == 0 else 'FAIL':>4}  {name}: {broken}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
