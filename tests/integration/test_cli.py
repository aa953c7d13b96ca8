"""The command line: create-admin, seed-demo, outbox drain, and migrations on an empty PostgreSQL (also
several at once)."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from portal import create_app
from portal.demo import DEMO_PASSWORD
from portal.models import OutboxEmail, Slot, User
from tests.factories import make_user
from tests.support.auth import isolated_client, post_login
from tests.support.paths import ROOT
from tests.support.services import flask_cli
from tests.support.wait import wait_until

STRONG = "granite-meadow-falcon-64"


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def _count(db, model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(model.id)))


def test_create_admin_makes_a_confirmed_admin_who_can_log_in(cli, app, db):
    result = cli.invoke(
        args=["create-admin", "--username", "Root", "--email", "Root@Example.com", "--password", STRONG]
    )
    assert result.exit_code == 0, result.output
    assert "Admin Root created." in result.output
    admin = db.session.scalars(select(User)).one()
    assert (admin.role, admin.email, admin.is_blocked) == ("admin", "Root@example.com", False)
    assert admin.confirmed_at is not None
    response = post_login(isolated_client(app), "root", STRONG)
    assert response.headers["Location"] == "/admin"


@pytest.mark.parametrize(
    ("username", "email", "password", "words"),
    [
        ("root", "root@example.com", "password", "too common"),
        ("root", "root@example.com", "12345678", "too common"),
        ("root", "root@example.com", "short", "at least 8"),
        ("granite-meadow-falcon", "root@example.com", "Granite-Meadow-Falcon", "same as the username"),
        ("ro", "root@example.com", STRONG, "3-32 characters"),
        ("root admin", "root@example.com", STRONG, "3-32 characters"),
        ("root", "not-an-address", STRONG, "not valid"),
    ],
)
def test_create_admin_refuses_bad_input(cli, db, username, email, password, words):
    result = cli.invoke(args=["create-admin", "--username", username, "--email", email, "--password", password])
    assert result.exit_code != 0
    assert words in result.output
    assert _count(db, User) == 0


@pytest.mark.parametrize(("username", "email"), [("ANNA", "new@example.com"), ("newname", "ANNA@example.com")])
def test_create_admin_refuses_duplicates_ignoring_case(cli, db, username, email):
    make_user(username="anna", email="anna@example.com")
    result = cli.invoke(args=["create-admin", "--username", username, "--email", email, "--password", STRONG])
    assert result.exit_code != 0
    assert "already used" in result.output
    assert _count(db, User) == 1


def test_seed_demo_prints_the_accounts_and_is_idempotent(cli, app, db):
    first = cli.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    users, slots = _count(db, User), _count(db, Slot)
    assert users == 5 and slots > 0
    for role in ("admin", "specialist", "client"):
        assert role in first.output
    assert first.output.count(DEMO_PASSWORD) == 5
    second = cli.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "already loaded" in second.output and second.output.count(DEMO_PASSWORD) == 5
    assert (_count(db, User), _count(db, Slot)) == (users, slots)
    response = post_login(isolated_client(app), "dr_smith", DEMO_PASSWORD)
    assert response.headers["Location"] == "/specialist/calendar"


def test_seed_demo_leaves_a_database_with_real_users_alone(cli, db):
    make_user(username="someone")
    result = cli.invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "not loaded" in result.output
    assert _count(db, User) == 1


def test_outbox_drain_requeues_what_is_unsent(app_config, run_id, clock, db, redis_client):
    clock.set(datetime.now(UTC) + timedelta(days=1))  # out of reach of the shared worker's own drain
    quiet = create_app({**app_config, "RQ_QUEUE_PREFIX": f"{run_id}-clidrain-", "CLOCK": clock})
    user = make_user(username="anna")
    row = OutboxEmail(user_id=user.id, recipient=user.email, kind="password_changed", subject="s", body_text="b")
    db.session.add(row)
    db.session.commit()  # written without going through the queue, as if Redis had been down
    cli = quiet.test_cli_runner()
    with quiet.app_context():  # the command runs in the app of the current context
        result = cli.invoke(args=["outbox", "drain", "--stale-seconds", "0"])
        assert result.exit_code == 0, result.output
        assert "1 email(s) re-queued." in result.output
        assert redis_client.exists(f"rq:job:{quiet.config['RQ_QUEUE_PREFIX']}email-{row.id}")
        again = cli.invoke(args=["outbox", "drain", "--stale-seconds", "0"])
        assert "0 email(s) re-queued." in again.output  # its job is waiting in the queue now


def test_worker_needs_redis(app_config, worker_env):
    result = flask_cli({**worker_env, "REDIS_URL": ""}, "worker", "--burst")
    assert result.returncode != 0 and "REDIS_URL is not set" in result.stderr


def test_upgrade_on_an_empty_database_then_check_reports_nothing_pending(worker_env, empty_database):
    env = {**worker_env, "DATABASE_URL": empty_database, "REDIS_URL": ""}
    upgrade = flask_cli(env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    check = flask_cli(env, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected." in check.stdout + check.stderr


# The advisory lock migrations/env.py takes around `db upgrade` on PostgreSQL.
MIGRATION_LOCK_KEY = 7_310_452_118


@pytest.mark.slow
def test_three_upgrades_started_together_apply_the_schema_once(worker_env, empty_database):
    """Three web containers starting at once (`docker compose up --scale web=3`) each run `db upgrade`."""
    env = {**worker_env, "DATABASE_URL": empty_database, "REDIS_URL": ""}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    gate = psycopg2.connect(empty_database)
    gate.autocommit = True
    with gate.cursor() as cur:
        # Hold the migration lock until all three are queued on it, so they really start together.
        cur.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        processes = [
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)
        ]
        assert wait_until(lambda: _lock_waiters(cur) == 3, timeout=90), "the upgrades did not queue on the lock"
        cur.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    gate.close()
    outputs = [process.communicate(timeout=120)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    # One process applied every revision; the others waited for it and found nothing left to do.
    applied = [output for output in outputs if "Running upgrade" in output]
    assert len(applied) == 1, outputs
    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    assert f"-> {head}," in applied[0]
    with psycopg2.connect(empty_database) as conn, conn.cursor() as cur:
        cur.execute("SELECT version_num FROM alembic_version")
        assert cur.fetchall() == [(head,)]
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = {row[0] for row in cur.fetchall()}
    conn.close()
    assert {"users", "slots", "consultations", "outbox_emails"} <= tables


def _lock_waiters(cur) -> int:
    """How many sessions of this database wait for an advisory lock."""
    cur.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    return cur.fetchone()[0]
