"""The device cookie on its own: what a browser sends back is recognised only for the account it was made for."""

import pytest

from portal.devices import COOKIE, MAX_ACCOUNTS, Devices, remember_device
from portal.models import User
from portal.security import hash_password

HASH = hash_password("plum-orbit-canvas-71")


def account(ident: int, password_hash: str = HASH) -> User:
    """An account as the login sees it (nothing stored)."""
    return User(id=ident, username=f"user{ident}", password_hash=password_hash)


def cookie_after_login(app, user: User, sent: str = "") -> str:
    """The device cookie a browser holds after logging in to `user`, having sent `sent`."""
    with app.test_request_context(headers={"Cookie": f"{COOKIE}={sent}"} if sent else {}):
        response = app.response_class()
        remember_device(response, user)
    line = response.headers["Set-Cookie"]
    return line.split(";", 1)[0].partition("=")[2]


def sent_back(app, value: str) -> Devices:
    with app.test_request_context(headers={"Cookie": f"{COOKIE}={value}"}):
        return Devices.from_request()


def test_a_device_cookie_names_its_account_and_a_device(app):
    anna = account(1)
    value = cookie_after_login(app, anna)
    with app.app_context():
        device = sent_back(app, value).device_id(anna)
    assert isinstance(device, str) and len(device) >= 20
    # Each login makes a new device id, so locking one cookie never locks another.
    with app.app_context():
        assert sent_back(app, cookie_after_login(app, anna)).device_id(anna) != device


def test_it_means_nothing_for_another_account_or_after_a_password_change(app):
    anna, boris = account(1), account(2)
    value = cookie_after_login(app, anna)
    relabelled = value.replace("1.", "2.", 1)
    with app.app_context():
        assert sent_back(app, value).device_id(boris) is None
        assert sent_back(app, relabelled).device_id(boris) is None
        assert sent_back(app, value).device_id(account(1, hash_password("another-password-42"))) is None
        assert sent_back(app, value).device_id(None) is None


@pytest.mark.parametrize(
    "value",
    ["", "1", "1.", ".abc", "x.abc", "1.abc", "1.abc.def", "~~~", "-1.abc", "1.\u00e9", "1." + "A" * 4000],
)
def test_malformed_cookies_are_ignored(app, value):
    with app.app_context():
        assert sent_back(app, value).device_id(account(1)) is None


def test_a_tampered_signature_is_ignored(app):
    anna = account(1)
    value = cookie_after_login(app, anna)
    for position in (2, len(value) // 2, len(value) - 1):
        # Base64's last character carries unused low bits: swap in one that differs in the high (data) bits.
        changed = value[:position] + ("A" if value[position] not in "ABCD" else "g") + value[position + 1 :]
        with app.app_context():
            assert sent_back(app, changed).device_id(anna) is None, position


def test_one_cookie_keeps_the_last_accounts_newest_first_and_one_entry_each(app):
    value = ""
    for ident in (1, 2, 3, 1, 4, 5, 6, 7):
        value = cookie_after_login(app, account(ident), value)
    entries = value.split("~")
    assert len(entries) == MAX_ACCOUNTS
    assert [int(e.split(".", 1)[0]) for e in entries] == [7, 6, 5, 4, 1]
    with app.app_context():
        devices = sent_back(app, value)
        assert all(devices.device_id(account(i)) for i in (7, 6, 5, 4, 1))
        assert devices.device_id(account(2)) is None
