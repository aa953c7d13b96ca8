"""Fill an empty PostgreSQL database with a portal of realistic size, using COPY.

    DATABASE_URL=postgresql://… .venv/bin/python -m bench.generate [--reset] [--seed N] [--scale N]

Applies the migrations (`flask db upgrade`) first, refuses a database that already holds users unless
--reset is given (which drops and recreates the `public` schema), then loads 1,000 specialists,
20,000 clients, 200,000 slots over the 12 months around now and 100,000 consultations in every state,
each count multiplied by --scale (default: $BENCH_SCALE or 1). The tables' non-unique indexes, exclusion
and foreign-key constraints are dropped for the load and built again after it, in the same transaction:
built once over the loaded rows instead of row by row, they cost a fraction of the time.
"""

import argparse
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime

import psycopg2

from bench import common
from bench.gen_consultations import make_consultations
from bench.gen_slots import make_slots
from bench.gen_users import make_users

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = {"specialists": 1000, "clients": 20000, "slots": 200_000, "consultations": 100_000}
LOADED = ("users", "slots", "consultations", "moderation_log")
COPY_READ = 1 << 16  # characters handed to COPY at a time


def sizes(scale: int = 1) -> dict:
    """The row counts at this multiple of the standard size."""
    return {table: count * scale for table, count in SIZES.items()}


def scale_from_env() -> int:
    return int(os.environ.get("BENCH_SCALE") or 1)


USER_COLUMNS = (
    "id", "username", "email", "password_hash", "role", "display_name", "timezone", "locale", "specialty",
    "bio", "confirmed_at", "is_blocked", "blocked_reason", "session_token", "created_at", "feed_token",
)  # fmt: skip
SLOT_COLUMNS = ("id", "specialist_id", "starts_at", "ends_at", "note", "deleted_at", "created_at", "updated_at")
CONSULTATION_COLUMNS = (
    "id", "slot_id", "client_id", "status", "cancel_reason", "cancel_comment", "reject_reason", "created_at",
    "accepted_at", "rejected_at", "cancelled_at", "updated_at",
)  # fmt: skip
MODERATION_COLUMNS = ("id", "admin_id", "user_id", "action", "reason", "created_at")


def _text(value) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class _CopySource:
    """The rows as a file for COPY FROM STDIN, formatted as PostgreSQL reads them: Python formats the next rows
    while the server stores the ones already sent, and no copy of the whole table is held in memory."""

    def __init__(self, rows):
        self._rows = iter(rows)
        self._left = ""
        self.count = 0

    def read(self, size: int = -1) -> str:
        parts, length = [self._left], len(self._left)
        while size < 0 or length < size:
            row = next(self._rows, None)
            if row is None:
                break
            line = "\t".join(_text(v) for v in row) + "\n"
            parts.append(line)
            length += len(line)
            self.count += 1
        data = "".join(parts)
        if size < 0:
            size = len(data)
        self._left = data[size:]
        return data[:size]


def copy_rows(cur, table: str, columns: tuple, rows) -> int:
    """COPY rows (tuples in column order) into a table; returns how many."""
    source = _CopySource(rows)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", source, size=COPY_READ)
    return source.count


def drop_for_load(cur, tables=LOADED) -> list[str]:
    """Drop the tables' non-unique secondary indexes, exclusion and foreign-key constraints; returns the
    statements that create them again, in an order that works (indexes, then constraints, foreign keys last).
    Primary keys, unique indexes and constraints (checked as rows come, and a unique index's predicate would
    not always read back the same) and CHECK constraints stay."""
    cur.execute(
        """SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
           FROM pg_constraint c
           WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('x', 'f')
           ORDER BY c.contype = 'f', c.conrelid::regclass::text, c.conname""",
        (list(tables),),
    )
    constraints = cur.fetchall()
    cur.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
           FROM pg_index i
           WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT i.indisunique
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
           ORDER BY 1""",
        (list(tables),),
    )
    indexes = cur.fetchall()
    for table, name, _, _ in reversed(constraints):  # foreign keys first
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cur.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition, _ in constraints
    ]


def upgrade(database_url: str) -> None:
    """Apply the portal's migrations with its own CLI."""
    env = dict(os.environ, DATABASE_URL=database_url)
    env.setdefault("SECRET_KEY", "bench-generate")
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def reset_schema(database_url: str) -> None:
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE")
        cur.execute("CREATE SCHEMA public")
    conn.close()


def user_count(database_url: str) -> int:
    conn = psycopg2.connect(database_url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM users")
        (count,) = cur.fetchone()
    conn.close()
    return count


def password_hash() -> str:
    """One Argon2 hash of the known password, made by the portal's own hasher."""
    sys.path.insert(0, ROOT)
    from portal.security import hash_password

    return hash_password(common.PASSWORD)


def generate(database_url: str, seed: int = 1, now: datetime | None = None, scale: int = 1) -> dict:
    """Load the whole data set in one transaction; returns counts and timings."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    size = sizes(scale)
    users, moderation = make_users(rng, now, password_hash(), size["specialists"], size["clients"])
    slots = make_slots(rng, now, users, size["slots"])
    consultations = make_consultations(rng, now, users, slots, size["consultations"])
    built = time.monotonic()

    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        rebuild = drop_for_load(cur)
        counts = {
            "users": copy_rows(cur, "users", USER_COLUMNS, (u.row() for u in users)),
            "slots": copy_rows(cur, "slots", SLOT_COLUMNS, (s.row() for s in slots)),
            "consultations": copy_rows(cur, "consultations", CONSULTATION_COLUMNS, consultations),
            "moderation_log": copy_rows(cur, "moderation_log", MODERATION_COLUMNS, moderation),
        }
        copied = time.monotonic()
        for statement in rebuild:
            cur.execute(statement)
        indexed = time.monotonic()
        for table in counts:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            )
    conn.autocommit = True
    with conn.cursor() as cur:
        # Fresh statistics and visibility map, as autovacuum would leave them on a live system.
        cur.execute("VACUUM ANALYZE")
    conn.close()
    done = time.monotonic()
    return {
        "counts": counts,
        "scale": scale,
        "now": now.isoformat(),
        "build_seconds": round(built - started, 1),
        "copy_seconds": round(copied - built, 1),
        "index_seconds": round(indexed - copied, 1),
        "vacuum_seconds": round(done - indexed, 1),
        "total_seconds": round(done - started, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--reset", action="store_true", help="drop and recreate the public schema first")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--scale", type=int, default=scale_from_env(), help="multiply every count by N (default: $BENCH_SCALE or 1)"
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or give --database-url")
    if args.scale < 1:
        parser.error("--scale must be 1 or more")
    started = time.monotonic()
    if args.reset:
        reset_schema(args.database_url)
    upgrade(args.database_url)
    if user_count(args.database_url):
        print("The database already holds users; use --reset to replace them.", file=sys.stderr)
        return 2
    result = generate(args.database_url, seed=args.seed, scale=args.scale)
    counts = ", ".join(f"{v:,} {k}" for k, v in result["counts"].items())
    print(
        f"Generated {counts} (scale {args.scale}) in {time.monotonic() - started:.1f} s: rows built in"
        f" {result['build_seconds']} s, copied in {result['copy_seconds']} s, indexes and constraints built in"
        f" {result['index_seconds']} s, VACUUM ANALYZE {result['vacuum_seconds']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
