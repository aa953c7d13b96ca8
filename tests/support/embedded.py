"""The embedded demo as `make run` starts it, for tests: no Redis, no SMTP, a SQLite file of the test's own."""

from contextlib import contextmanager

from portal import create_app
from portal.extensions import db


@contextmanager
def embedded_portal(tmp_path, monkeypatch, **environment):
    """The portal with PORTAL_EMBEDDED=1 on `tmp_path`'s SQLite file, its schema made, inside its app context.

    `environment` adds settings (e.g. WEBHOOK_ALLOW_PRIVATE="true")."""
    for name in ("REDIS_URL", "MAIL_SERVER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_EMBEDDED", "1")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    monkeypatch.setenv("SECRET_KEY", "x")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()
