"""Throttles shared by all web processes through Redis: failed logins, registrations, reset requests.

Each app keeps its own counter store (built from RATELIMIT_STORAGE_URI), so two apps built with
create_app against the same Redis share the counts. Windows are moving: "5 per 15 minutes" means
five within any 15 minutes. If the store is unreachable the throttle lets the request through and
logs it: a Redis outage must not lock everybody out.
"""

import logging
import threading

# redis is imported whole before any request thread: limits imports it lazily, and a thread that finds it
# half-imported by another reads its version as 0.0.0 and refuses it (seen under gunicorn's threaded
# workers on the first concurrent logins).
import redis  # noqa: F401
from flask import current_app
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

_EXTENSION = "portal_throttle"
_CREATING = threading.Lock()


def _strategy() -> MovingWindowRateLimiter:
    app = current_app._get_current_object()
    strategy = app.extensions.get(_EXTENSION)
    if strategy is not None:
        return strategy
    with _CREATING:  # one store per app, even when its first requests arrive together
        strategy = app.extensions.get(_EXTENSION)
        if strategy is not None:
            return strategy
        uri = app.config["RATELIMIT_STORAGE_URI"]
        options = {"wrap_exceptions": True}
        if uri.startswith(("redis://", "rediss://", "unix://")):
            options.update(
                key_prefix=f"{app.config['RATELIMIT_KEY_PREFIX']}:throttle",
                socket_connect_timeout=1,
                socket_timeout=2,
            )
        strategy = MovingWindowRateLimiter(storage_from_string(uri, **options))
        app.extensions[_EXTENSION] = strategy
    return strategy


def _limit(name: str) -> RateLimitItem:
    return parse(current_app.config[name])


def _key(kind: str, value: str) -> str:
    return f"{kind}:{(value or 'unknown').strip().lower()[:254]}"


def _allowed(pairs: list[tuple[str, str]]) -> bool:
    strategy = _strategy()
    try:
        return all(strategy.test(_limit(name), key) for name, key in pairs)
    except StorageError as exc:
        log.warning("throttle store unavailable, letting the request through: %s", exc)
        return True


def _hit(pairs: list[tuple[str, str]]) -> None:
    strategy = _strategy()
    try:
        for name, key in pairs:
            strategy.hit(_limit(name), key)
    except StorageError as exc:
        log.warning("throttle store unavailable, not counting: %s", exc)


def _login_pairs(account: str, address: str) -> list[tuple[str, str]]:
    return [
        ("LOGIN_FAILURES_PER_ACCOUNT", _key("login-fail-account", account)),
        ("LOGIN_FAILURES_PER_ADDRESS", _key("login-fail-address", address)),
    ]


def login_allowed(account: str, address: str) -> bool:
    """False once the account or the address has too many recent failures."""
    return _allowed(_login_pairs(account, address))


def record_failure(account: str, address: str) -> None:
    """Count one failed login against the account and the address."""
    _hit(_login_pairs(account, address))


def clear_account(account: str) -> None:
    """Forget the account's failures (after it proved ownership by a reset link)."""
    strategy = _strategy()
    try:
        strategy.clear(_limit("LOGIN_FAILURES_PER_ACCOUNT"), _key("login-fail-account", account))
    except StorageError as exc:
        log.warning("throttle store unavailable, not cleared: %s", exc)


def request_allowed(kind: str, address: str) -> bool:
    """Count one registration or email-sending request from the address; False past the limit."""
    name = {"register": "REGISTER_LIMIT", "reset": "RESET_LIMIT"}[kind]
    pair = [(name, _key(f"{kind}-address", address))]
    if not _allowed(pair):
        return False
    _hit(pair)
    return True
