"""Configuration, read from the environment in one place."""

import os
import secrets
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _embedded_secret_key() -> str:
    """A stable random key for the embedded default, kept in instance/."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


ENV_NAMES = {
    "DATABASE_URL",
    "SECRET_KEY",
    "PUBLIC_URL",
    "REDIS_URL",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_TLS",
    "MAIL_DEFAULT_SENDER",
    "DEFAULT_TIMEZONE",
    "DEFAULT_LOCALE",
    "RATELIMIT_KEY_PREFIX",
    "REGISTER_LIMIT",
    "RESET_LIMIT",
    "RQ_QUEUE_PREFIX",
    "OUTBOX_STALE_SECONDS",
    "OUTBOX_DRAIN_INTERVAL",
    "EMAIL_MAX_RETRIES",
    "EMAIL_RETRY_INTERVALS",
    "TRUSTED_PROXIES",
}


# One catalog per area of the portal (portal/translations/<area>/ru/LC_MESSAGES/messages.po), merged at run time.
TRANSLATION_AREAS = ("core", "specialist", "client", "admin")


class ConfigError(RuntimeError):
    """Raised when a production start lacks a required setting."""


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment (and test overrides)."""
    overrides = dict(overrides or {})
    # Environment first; overrides (tests, tools) may set the same names.
    env = {**os.environ, **{k: v for k, v in overrides.items() if isinstance(v, str)}}
    database_url = overrides.get("SQLALCHEMY_DATABASE_URI") or env.get("DATABASE_URL")
    embedded = not database_url
    if embedded:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{INSTANCE_DIR / 'portal.sqlite3'}"
    elif database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://") :]

    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if not embedded:
            raise ConfigError("SECRET_KEY must be set when DATABASE_URL is set.")
        secret_key = _embedded_secret_key()

    public_url = env.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
    redis_url = env.get("REDIS_URL") or None
    engine_options: dict = {"pool_pre_ping": True}
    if database_url.startswith("postgresql"):
        # Not a ping on every checkout: portal/dbpool.py checks connections that sat idle.
        engine_options.update(pool_pre_ping=False, pool_size=5, max_overflow=10, pool_recycle=1800)

    config = {
        "EMBEDDED": embedded,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "REDIS_URL": redis_url,
        "PUBLIC_URL": public_url,
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT") or 25),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "Consultation Portal <no-reply@localhost>"),
        "DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "UTC"),
        "DEFAULT_LOCALE": env.get("DEFAULT_LOCALE", "en"),
        "BABEL_DEFAULT_LOCALE": env.get("DEFAULT_LOCALE", "en"),
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": ";".join(f"translations/{area}" for area in TRANSLATION_AREAS),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public_url.startswith("https://"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": public_url.startswith("https://"),
        "WTF_CSRF_TIME_LIMIT": None,
        # No route carries a Flask-Limiter limit: the portal counts failures only, per account and per
        # address (portal/services/throttle.py, on the same `limits` storage). Off, its per-request hooks
        # are not installed at all.
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", "portal"),
        "RATELIMIT_HEADERS_ENABLED": False,
        # Redis down must not take registration or login down with it.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "LOGIN_FAILURES_PER_ACCOUNT": "5 per 15 minutes",
        "LOGIN_FAILURES_PER_ADDRESS": "20 per 15 minutes",
        "REGISTER_LIMIT": env.get("REGISTER_LIMIT", "10 per hour"),
        "RESET_LIMIT": env.get("RESET_LIMIT", "10 per hour"),
        # Letters, digits, "-" and "_" only: it becomes part of RQ job ids.
        "RQ_QUEUE_PREFIX": env.get("RQ_QUEUE_PREFIX", ""),
        "OUTBOX_STALE_SECONDS": int(env.get("OUTBOX_STALE_SECONDS") or 120),
        "OUTBOX_DRAIN_INTERVAL": int(env.get("OUTBOX_DRAIN_INTERVAL") or 60),
        "EMAIL_MAX_RETRIES": int(env.get("EMAIL_MAX_RETRIES") or 5),
        "EMAIL_RETRY_INTERVALS": [
            int(x) for x in (env.get("EMAIL_RETRY_INTERVALS") or "10,30,120,600,1800").split(",")
        ],
        # Reverse proxies in front of the portal whose X-Forwarded-* headers are believed (portal/proxy.py).
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES") or 0),
        "PAGE_SIZE": 20,
        "CLOCK": None,
    }
    # Names read from the environment were parsed above; anything else overrides directly.
    config.update({k: v for k, v in overrides.items() if k not in ENV_NAMES})
    return config
