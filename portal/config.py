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
    "PORTAL_EMBEDDED",
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
    "PERIODIC_JOBS",
    "EMAIL_MAX_RETRIES",
    "EMAIL_RETRY_INTERVALS",
    "MAX_CONTENT_LENGTH",
    "TRUSTED_PROXIES",
    "ADMIN_CONTACT_EMAIL",
    "WEBHOOK_ALLOW_PRIVATE",
    "WEBHOOK_RETRY_INTERVALS",
    "WEBHOOK_DISABLE_AFTER",
    "WEBHOOK_CONNECT_TIMEOUT",
    "WEBHOOK_READ_TIMEOUT",
}


class ConfigError(RuntimeError):
    """Raised when a production start lacks a required setting."""


def _require_production_settings(database_url: str | None, secret_key: str | None) -> None:
    """Outside the embedded demo the database and the signing key must be given: never a silent fallback."""
    missing = [name for name, value in (("DATABASE_URL", database_url), ("SECRET_KEY", secret_key)) if not value]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. A production start needs "
            "DATABASE_URL (PostgreSQL) and SECRET_KEY in the environment. The embedded demo (SQLite, emails on "
            "/dev/mail) is started only by `make run` (PORTAL_EMBEDDED=1, on a loopback address)."
        )


def _embedded_defaults(database_url: str | None, secret_key: str | None) -> tuple[str, str]:
    """The embedded demo's SQLite database and signing key, kept in instance/ unless given."""
    if database_url and not database_url.startswith("sqlite:"):
        # The demo shows every email on /dev/mail: it must never run against a real database.
        raise ConfigError("PORTAL_EMBEDDED=1 runs the demo on SQLite: unset DATABASE_URL or unset PORTAL_EMBEDDED.")
    if not database_url:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{INSTANCE_DIR / 'portal.sqlite3'}"
    return database_url, secret_key or _embedded_secret_key()


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config from the environment (and test overrides)."""
    overrides = dict(overrides or {})
    # Environment first; overrides (tests, tools) may set the same names.
    env = {**os.environ, **{k: v for k, v in overrides.items() if isinstance(v, str)}}
    embedded = bool(overrides.get("EMBEDDED", _bool(env.get("PORTAL_EMBEDDED"))))
    database_url = overrides.get("SQLALCHEMY_DATABASE_URI") or env.get("DATABASE_URL")
    secret_key = env.get("SECRET_KEY")
    if embedded:
        database_url, secret_key = _embedded_defaults(database_url, secret_key)
    else:
        _require_production_settings(database_url, secret_key)
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://") :]

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
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public_url.startswith("https://"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": public_url.startswith("https://"),
        "WTF_CSRF_TIME_LIMIT": None,
        # Forms are small: a larger body is refused with 413 before it is read.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH") or 1024 * 1024),
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
        # The worker enqueues the reminder and expiry sweeps (portal/schedule.py); "off" leaves them to others.
        "PERIODIC_JOBS": _bool(env.get("PERIODIC_JOBS"), default=True),
        # Seconds: no periodic job waits longer than this between runs (None: each runs at its own interval).
        "PERIODIC_INTERVAL_MAX": None,
        "EMAIL_MAX_RETRIES": int(env.get("EMAIL_MAX_RETRIES") or 5),
        "EMAIL_RETRY_INTERVALS": [
            int(x) for x in (env.get("EMAIL_RETRY_INTERVALS") or "10,30,120,600,1800").split(",")
        ],
        # Reverse proxies in front of the portal whose X-Forwarded-* headers are believed (portal/proxy.py).
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES") or 0),
        # Shown to blocked users as the way to reach the admins; nothing is shown when unset.
        "ADMIN_CONTACT_EMAIL": (env.get("ADMIN_CONTACT_EMAIL") or "").strip() or None,
        # Webhooks (portal/webhooks/): true lets them reach private and loopback addresses (tests, an intranet).
        "WEBHOOK_ALLOW_PRIVATE": _bool(env.get("WEBHOOK_ALLOW_PRIVATE")),
        # After the first attempt: the Standard Webhooks schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h).
        "WEBHOOK_RETRY_INTERVALS": [
            int(x) for x in (env.get("WEBHOOK_RETRY_INTERVALS") or "5,300,1800,7200,18000,36000,36000").split(",")
        ],
        "WEBHOOK_DISABLE_AFTER": int(env.get("WEBHOOK_DISABLE_AFTER") or 20),
        "WEBHOOK_CONNECT_TIMEOUT": float(env.get("WEBHOOK_CONNECT_TIMEOUT") or 3),
        "WEBHOOK_READ_TIMEOUT": float(env.get("WEBHOOK_READ_TIMEOUT") or 10),
        # Admins must turn two-factor authentication on before they reach any other page (SPEC §16).
        "ADMIN_REQUIRE_2FA": _bool(env.get("ADMIN_REQUIRE_2FA")),
        "PAGE_SIZE": 20,
        "CLOCK": None,
    }
    # Names read from the environment were parsed above; anything else overrides directly.
    config.update({k: v for k, v in overrides.items() if k not in ENV_NAMES})
    return config
