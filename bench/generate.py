"""Fill an empty PostgreSQL database with a portal of realistic size, using COPY.

    DATABASE_URL=postgresql://… .venv/bin/python -m bench.generate [--reset] [--seed N]

Applies the migrations (`flask db upgrade`) first, refuses a database that already holds users unless
--reset is given (which drops and recreates the `public` schema), then loads 1,000 specialists,
20,000 clients, 200,000 slots over the 12 months around now and 100,000 consultations in every state.
"""

import argparse
import io
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


def copy_rows(cur, table: str, columns: tuple, rows) -> int:
    """COPY rows (tuples in column order) into a table; returns how many."""
    buf = io.StringIO()
    count = 0
    for row in rows:
        buf.write("\t".join(_text(v) for v in row))
        buf.write("\n")
        count += 1
    buf.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)
    return count


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


def generate(database_url: str, seed: int = 1, now: datetime | None = None) -> dict:
    """Load the whole data set in one transaction; returns counts and timings."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    users, moderation = make_users(rng, now, password_hash(), SIZES["specialists"], SIZES["clients"])
    slots = make_slots(rng, now, users, SIZES["slots"])
    consultations = make_consultations(rng, now, users, slots, SIZES["consultations"])
    built = time.monotonic()

    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        counts = {
            "users": copy_rows(cur, "users", USER_COLUMNS, (u.row() for u in users)),
            "slots": copy_rows(cur, "slots", SLOT_COLUMNS, (s.row() for s in slots)),
            "consultations": copy_rows(cur, "consultations", CONSULTATION_COLUMNS, consultations),
            "moderation_log": copy_rows(cur, "moderation_log", MODERATION_COLUMNS, moderation),
        }
        for table in counts:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            )
    conn.autocommit = True
    with conn.cursor() as cur:
        # Fresh statistics and visibility map, as autovacuum would leave them on a live system.
        cur.execute("VACUUM ANALYZE")
    conn.close()
    return {
        "counts": counts,
        "now": now.isoformat(),
        "build_seconds": round(built - started, 1),
        "total_seconds": round(time.monotonic() - started, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--reset", action="store_true", help="drop and recreate the public schema first")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or give --database-url")
    started = time.monotonic()
    if args.reset:
        reset_schema(args.database_url)
    upgrade(args.database_url)
    if user_count(args.database_url):
        print("The database already holds users; use --reset to replace them.", file=sys.stderr)
        return 2
    result = generate(args.database_url, seed=args.seed)
    counts = ", ".join(f"{v:,} {k}" for k, v in result["counts"].items())
    print(f"Generated {counts} in {time.monotonic() - started:.1f} s (rows built in {result['build_seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
