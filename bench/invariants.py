"""SPEC §9 promises checked in SQL after the write scenario."""

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
