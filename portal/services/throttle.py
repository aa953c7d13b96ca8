"""Failed-login throttling shared by all web processes through the limiter's storage (Redis)."""

from flask import current_app
from limits import parse

from portal.extensions import limiter


def _limits():
    config = current_app.config
    return parse(config["LOGIN_FAILURES_PER_ACCOUNT"]), parse(config["LOGIN_FAILURES_PER_ADDRESS"])


def _account_key(login: str) -> str:
    return "login-fail-account:" + login.strip().lower()[:254]


def _address_key(address: str) -> str:
    return "login-fail-address:" + (address or "unknown")


def login_allowed(login: str, address: str) -> bool:
    per_account, per_address = _limits()
    strategy = limiter.limiter
    return strategy.test(per_account, _account_key(login)) and strategy.test(per_address, _address_key(address))


def record_failure(login: str, address: str) -> None:
    per_account, per_address = _limits()
    strategy = limiter.limiter
    strategy.hit(per_account, _account_key(login))
    strategy.hit(per_address, _address_key(address))


def clear_account(login: str) -> None:
    per_account, _ = _limits()
    limiter.limiter.clear(per_account, _account_key(login))
