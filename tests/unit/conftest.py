"""Unit tests run on a bare virtualenv: an app on an in-memory SQLite database, no Redis, no mail server."""

import pytest

from portal import create_app


@pytest.fixture(scope="session")
def app_config():
    """Settings with nothing behind them: forms, templates, translations and pure functions only."""
    return {
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SECRET_KEY": "unit-tests",
        "REDIS_URL": "",
        "PUBLIC_URL": "http://portal.test",
    }


@pytest.fixture(scope="session")
def app(app_config, session_clock):
    return create_app({**app_config, "CLOCK": session_clock})


@pytest.fixture(autouse=True)
def db():
    """Unit tests touch no database (this replaces the suite-wide fixture that empties it)."""
    return None
