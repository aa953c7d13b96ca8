"""Unit tests run on a bare virtualenv: an app on an in-memory SQLite database, no Redis, no mail server."""

import pytest

from portal import create_app


@pytest.fixture(scope="session")
def app(session_clock):
    """The app with nothing behind it: forms, templates, translations and pure functions only."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "unit-tests",
            "REDIS_URL": "",
            "PUBLIC_URL": "http://portal.test",
            "CLOCK": session_clock,
        }
    )


@pytest.fixture(autouse=True)
def db():
    """Unit tests touch no database (this replaces the suite-wide fixture that empties it)."""
    return None
