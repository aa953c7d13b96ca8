"""CLI: create-admin, seed-demo, worker, outbox drain, serve-embedded."""

import logging
import re
import threading
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from portal.extensions import db

log = logging.getLogger(__name__)

USERNAME = re.compile(r"[A-Za-z0-9._-]{3,32}")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo)
    app.cli.add_command(worker)
    app.cli.add_command(outbox)
    app.cli.add_command(serve_embedded)


@click.command("create-admin")
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--password", required=True)
@with_appcontext
def create_admin(username, email, password):
    """Create a confirmed admin account (the only way to get one)."""
    from email_validator import EmailNotValidError, validate_email

    from portal.clock import utcnow
    from portal.models import User
    from portal.security import hash_password, password_problem
    from portal.services.accounts import find_by_email, find_by_login

    username = username.strip()
    if not USERNAME.fullmatch(username):
        raise click.ClickException("The username needs 3-32 characters: letters A-Z, digits, . _ -")
    try:
        email = validate_email(email.strip(), check_deliverability=False, allow_smtputf8=False).ascii_email
    except EmailNotValidError as exc:
        raise click.ClickException(f"The email address is not valid: {exc}") from None
    problem = password_problem(password, username, email)
    if problem:
        raise click.ClickException(str(problem))
    if find_by_login(username) or find_by_email(email):
        raise click.ClickException("That username or email is already used.")
    user = User(
        username=username,
        email=email,
        password_hash=hash_password(password),
        role="admin",
        confirmed_at=utcnow(),
        timezone=current_app.config["DEFAULT_TIMEZONE"],
        locale=current_app.config["DEFAULT_LOCALE"],
    )
    db.session.add(user)
    db.session.commit()
    click.echo(f"Admin {username} created.")


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Load demo accounts and slots if the database has no users; print the demo accounts either way."""
    from sqlalchemy import select

    from portal.demo import ACCOUNTS, DEMO_PASSWORD, load_demo
    from portal.models import User

    accounts = load_demo()
    if accounts:
        click.echo("Demo data loaded. Demo accounts (role / username / password):")
    else:
        names = [spec["username"] for spec in ACCOUNTS]
        found = db.session.execute(select(User.role, User.username).where(User.username.in_(names))).all()
        if not found:
            click.echo("The database already has users; demo data not loaded.")
            return
        click.echo("Demo data already loaded. Demo accounts (role / username / password, unless changed):")
        found.sort(key=lambda row: names.index(row.username))
        accounts = [(role, username, DEMO_PASSWORD) for role, username in found]
    for role, username, password in accounts:
        click.echo(f"  {role:<11} {username:<10} {password}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@with_appcontext
def worker(burst):
    """RQ worker (with scheduler for retries) on the portal's queues; drains the outbox periodically and
    enqueues the periodic jobs (portal/schedule.py) unless PERIODIC_JOBS is off."""
    from rq import Queue, Worker

    from portal.queues import queue_name, redis_connection, set_worker_app

    if not current_app.config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set.")
    app = current_app._get_current_object()
    set_worker_app(app)
    connection = redis_connection()
    queues = [Queue(queue_name(name), connection=connection) for name in ("emails", "webhooks", "default")]
    if not burst:
        threading.Thread(target=_drain_forever, args=(app,), daemon=True, name="outbox-drain").start()
        if current_app.config["PERIODIC_JOBS"]:
            from portal.schedule import start_scheduler

            start_scheduler(app)
    Worker(queues, connection=connection).work(with_scheduler=True, burst=burst)


def _drain_forever(app: Flask) -> None:
    from portal.outbox.drain import drain_outbox

    interval = app.config["OUTBOX_DRAIN_INTERVAL"]
    while True:
        time.sleep(interval)
        try:
            with app.app_context():
                count = drain_outbox()
                if count:
                    log.info("outbox drain re-queued %d email(s)", count)
                db.session.remove()
        except Exception:  # keep draining; the next round may find Redis or the database back
            log.exception("outbox drain failed")


@click.group("outbox")
def outbox():
    """The email outbox."""


@outbox.command("drain")
@click.option("--stale-seconds", type=int, default=None, help="Re-queue rows queued longer ago than this.")
@with_appcontext
def outbox_drain(stale_seconds):
    """Re-queue emails that are still unsent."""
    from portal.outbox.drain import drain_outbox

    count = drain_outbox(stale_seconds)
    click.echo(f"{count} email(s) re-queued.")


@click.command("serve-embedded")
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option("--port", default=5000, show_default=True, type=int)
def serve_embedded(host, port):
    """Serve the embedded demo (`make run`) on a loopback address only."""
    from werkzeug.serving import run_simple

    from portal.web import is_loopback

    if not current_app.config["EMBEDDED"]:
        raise click.ClickException(
            "serve-embedded serves only the embedded demo (PORTAL_EMBEDDED=1); in production run gunicorn wsgi:app."
        )
    if not is_loopback(host):
        # /dev/mail shows every reset link: the demo must not be reachable from the network.
        raise click.ClickException(
            f"The embedded demo serves only on a loopback address (127.0.0.1, ::1, localhost), not {host}."
        )
    run_simple(host, port, current_app._get_current_object(), threaded=True)
