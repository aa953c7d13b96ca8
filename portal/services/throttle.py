"""Throttles shared by all web processes through Redis: failed password checks, registrations, reset requests,
and API requests per token.

Each app keeps its own counter store (built from RATELIMIT_STORAGE_URI), so two apps built with
create_app against the same Redis share the counts. Windows are moving: "5 per 15 minutes" means
five within any 15 minutes. If the store is unreachable the throttle lets the request through and
logs it: a Redis outage must not lock everybody out.
"""

import logging
import math
import threading
import time
from collections.abc import Iterable

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


def _login_pairs(names: Iterable[str], address: str, device: str | None) -> list[tuple[str, str]]:
    """The counters a password check is held back by and counted against.

    From a browser with a device cookie for the account (portal/devices.py): that cookie's own counter only,
    with the per-account allowance. From anywhere else: the name typed and the network address.

    The account counter is keyed by the login name exactly as typed (trimmed, lower-cased), not by the account
    it finds. Keyed by account, five failures on a public username would throttle its email address too, and
    anyone could learn which address belongs to which username by watching for the refusal. Keyed by the name,
    failures on "anna" tell nothing about "anna@example.com", and an unknown name is counted the same way as a
    known one. The cost: a guesser who knows both spellings gets two allowances per account (10 instead of 5
    guesses per 15 minutes), still bounded, and still within the per-address limit that stops one network
    trying many names; the account's owner is not held back by either, thanks to the device cookie.
    """
    if device:
        return [("LOGIN_FAILURES_PER_ACCOUNT", _key("login-fail-device", device))]
    keys = dict.fromkeys(_key("login-fail-name", name) for name in names)  # one count per name, however spelt
    return [
        *(("LOGIN_FAILURES_PER_ACCOUNT", key) for key in keys),
        ("LOGIN_FAILURES_PER_ADDRESS", _key("login-fail-address", address)),
    ]


def login_allowed(names: Iterable[str], address: str, device: str | None = None) -> bool:
    """False once the device, or else any of the names or the address, has too many recent failures."""
    return _allowed(_login_pairs(names, address, device))


def record_failure(names: Iterable[str], address: str, device: str | None = None) -> None:
    """Count one failed password check against the device, or else the names and the address."""
    _hit(_login_pairs(names, address, device))


def clear_names(*names: str) -> None:
    """Forget the failures typed under these names (after the account proved ownership by a reset link)."""
    strategy = _strategy()
    try:
        for name in names:
            strategy.clear(_limit("LOGIN_FAILURES_PER_ACCOUNT"), _key("login-fail-name", name))
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


def api_request_wait(token_id: int) -> int:
    """Count one API request of a token: 0 within API_RATE_LIMIT, else the seconds until it may try again."""
    limit, key = _limit("API_RATE_LIMIT"), _key("api-token", str(token_id))
    strategy = _strategy()
    try:
        if strategy.hit(limit, key):
            return 0
        reset_at = strategy.get_window_stats(limit, key).reset_time
    except StorageError as exc:
        log.warning("throttle store unavailable, not counting: %s", exc)
        return 0
    return max(1, math.ceil(reset_at - time.time()))
