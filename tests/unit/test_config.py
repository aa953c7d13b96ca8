"""Configuration comes from the environment, in one place, and fails loudly when production lacks a setting."""

import pytest

from portal.config import ConfigError, load_config

PG = "postgresql://portal@db:5432/portal"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in (
        "PORTAL_EMBEDDED",
        "MAX_CONTENT_LENGTH",
        "DATABASE_URL",
        "SECRET_KEY",
        "PUBLIC_URL",
        "REDIS_URL",
        "MAIL_USE_TLS",
        "MAIL_PORT",
        "EMAIL_RETRY_INTERVALS",
        "DEFAULT_TIMEZONE",
        "DEFAULT_LOCALE",
    ):
        monkeypatch.delenv(name, raising=False)


def test_production_without_a_secret_key_refuses_to_start(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", PG)
    with pytest.raises(ConfigError, match="^SECRET_KEY is not set"):
        load_config()


def test_production_without_a_database_url_refuses_to_start(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    monkeypatch.setenv("PUBLIC_URL", "https://portal.example.org")
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.org")
    with pytest.raises(ConfigError, match="^DATABASE_URL is not set"):
        load_config()


def test_a_bare_start_names_both_missing_settings():
    with pytest.raises(ConfigError, match="^DATABASE_URL and SECRET_KEY are not set") as error:
        load_config()
    assert "make run" in str(error.value)  # and says how to get the demo instead


@pytest.mark.parametrize("flag", ["", "0", "false", "no"])
def test_only_a_true_flag_switches_the_embedded_demo_on(monkeypatch, flag):
    monkeypatch.setenv("PORTAL_EMBEDDED", flag)
    with pytest.raises(ConfigError, match="DATABASE_URL and SECRET_KEY"):
        load_config()


def test_the_embedded_demo_never_runs_on_a_real_database(monkeypatch):
    monkeypatch.setenv("PORTAL_EMBEDDED", "1")
    monkeypatch.setenv("DATABASE_URL", PG)
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    with pytest.raises(ConfigError, match="unset DATABASE_URL or unset PORTAL_EMBEDDED"):
        load_config()


def test_production_settings_are_read_from_the_environment(monkeypatch):
    environment = {
        "DATABASE_URL": "postgres://portal@db:5432/portal",
        "SECRET_KEY": "s3cret",
        "REDIS_URL": "redis://redis:6379/0",
        "PUBLIC_URL": "https://portal.example.org/",
        "MAIL_PORT": "2525",
        "MAIL_USE_TLS": "true",
        "EMAIL_RETRY_INTERVALS": "1,1",
        "DEFAULT_TIMEZONE": "Europe/Moscow",
        "DEFAULT_LOCALE": "ru",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = load_config()
    assert config["SQLALCHEMY_DATABASE_URI"] == PG  # the old scheme name is accepted
    assert config["EMBEDDED"] is False and config["SECRET_KEY"] == "s3cret"
    assert config["PUBLIC_URL"] == "https://portal.example.org"
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True and config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://redis:6379/0"
    assert (config["MAIL_PORT"], config["MAIL_USE_TLS"]) == (2525, True)
    assert config["EMAIL_RETRY_INTERVALS"] == [1, 1]
    assert (config["DEFAULT_TIMEZONE"], config["DEFAULT_LOCALE"]) == ("Europe/Moscow", "ru")
    assert config["MAX_CONTENT_LENGTH"] == 1024 * 1024  # forms are small


def test_the_request_size_limit_can_be_changed(monkeypatch):
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "65536")
    config = load_config({"DATABASE_URL": PG, "SECRET_KEY": "s3cret"})
    assert config["MAX_CONTENT_LENGTH"] == 65536 and config["EMBEDDED"] is False


def test_the_embedded_demo_needs_only_its_flag(monkeypatch):
    monkeypatch.setenv("PORTAL_EMBEDDED", "1")
    config = load_config()
    assert config["EMBEDDED"] is True
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["SQLALCHEMY_DATABASE_URI"].endswith("/instance/portal.sqlite3")
    assert config["SECRET_KEY"] and config["REDIS_URL"] is None
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert config["SESSION_COOKIE_SECURE"] is False
    assert (config["DEFAULT_TIMEZONE"], config["DEFAULT_LOCALE"]) == ("UTC", "en")
    assert load_config()["SECRET_KEY"] == config["SECRET_KEY"]  # stable across restarts


def test_overrides_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "http://a.example")
    monkeypatch.setenv("DATABASE_URL", PG)
    config = load_config({"PUBLIC_URL": "https://b.example", "PAGE_SIZE": 5, "SECRET_KEY": "s3cret"})
    assert config["PUBLIC_URL"] == "https://b.example" and config["SESSION_COOKIE_SECURE"] is True
    assert config["PAGE_SIZE"] == 5
