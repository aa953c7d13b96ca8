"""Lockout through real HTTP, under gunicorn: an attacker failing logins for someone from fifty addresses cannot
keep that person's own browser out, yet new browsers are still stopped; X-Forwarded-For decides the address a
failure counts against only when TRUSTED_PROXIES says a proxy is in front."""

from collections import Counter

import pytest

from tests.factories import PASSWORD, make_user
from tests.proof.http import Browser, Gunicorn, page_form, server_env

pytestmark = [pytest.mark.slow, pytest.mark.serial]

THROTTLED = "Too many failed attempts. Please wait 15 minutes and try again."


def start(app_config, run_id, tmp_path_factory, name: str, **env):
    settings = server_env(app_config, RQ_QUEUE_PREFIX=f"{run_id}{name}-", RATELIMIT_KEY_PREFIX=f"{run_id}{name}", **env)
    return Gunicorn(settings, tmp_path_factory.mktemp(name), name=name).start()


@pytest.fixture(scope="module")
def behind_proxy(app_config, run_id, tmp_path_factory):
    """The portal told one proxy is in front of it (these tests play the proxy: they add X-Forwarded-For)."""
    server = start(app_config, run_id, tmp_path_factory, "proxied", TRUSTED_PROXIES="1")
    yield server
    server.stop()
    assert server.errors() == [], server.log()[-3000:]


@pytest.fixture(scope="module")
def direct(app_config, run_id, tmp_path_factory):
    """The portal with TRUSTED_PROXIES unset, as it starts by default."""
    server = start(app_config, run_id, tmp_path_factory, "direct", TRUSTED_PROXIES="")
    yield server
    server.stop()
    assert server.errors() == [], server.log()[-3000:]


def log_out(browser: Browser) -> None:
    form = page_form(browser.get("/profile"), action="/logout")
    assert browser.post(form.action, form.values()).status == 302


def test_fifty_failures_from_elsewhere_do_not_keep_the_owner_out_but_stop_new_browsers(behind_proxy):
    make_user(username="anna", email="anna@example.com")
    owner = Browser(behind_proxy.url, address="203.0.113.10")
    assert owner.login("anna", PASSWORD).status == 302
    log_out(owner)

    seen = Counter()
    for n in range(50):  # each from an address of its own, by username and by email in turn
        name = "anna" if n % 2 else "Anna@Example.com"
        answer = Browser(behind_proxy.url, address=f"198.51.100.{n}").login(name, "wrong-guess-1")
        seen[answer.status] += 1
        assert answer.status in (422, 429), answer.status
    assert seen == {422: 10, 429: 40}  # five failures per name, then refusals; no address was stopped

    home = owner.login("anna", PASSWORD)
    assert home.status == 302 and home.location == "/client/slots"
    assert owner.get("/client/slots").status == 200
    for address in ("203.0.113.10", "203.0.113.11"):  # a new browser, even on the owner's own network
        for name in ("anna", "anna@example.com"):
            refused = Browser(behind_proxy.url, address=address).login(name, PASSWORD)
            assert refused.status == 429, (address, name)
            assert THROTTLED in refused.text


def fail_twenty(url: str, address: str | None, vary: bool = False) -> None:
    """Twenty failed logins on made-up names from one client (claiming twenty addresses when `vary`)."""
    for n in range(20):
        claimed = f"198.51.100.{100 + n}" if vary else address
        assert Browser(url, address=claimed).login(f"guess{n}", "wrong-guess-1").status == 422, n


def test_forwarded_for_is_ignored_without_trusted_proxies(direct):
    make_user(username="boris")
    fail_twenty(direct.url, None, vary=True)  # made-up X-Forwarded-For: all still count on the real address
    refused = Browser(direct.url, address="192.0.2.11").login("boris", PASSWORD)
    assert refused.status == 429
    assert THROTTLED in refused.text


def test_two_clients_behind_one_proxy_get_a_limit_each(behind_proxy):
    make_user(username="boris")
    fail_twenty(behind_proxy.url, "192.0.2.10")
    refused = Browser(behind_proxy.url, address="192.0.2.10").login("boris", PASSWORD)
    assert refused.status == 429 and THROTTLED in refused.text
    neighbour = Browser(behind_proxy.url, address="192.0.2.11")  # same proxy, same peer address, another client
    assert neighbour.login("boris", PASSWORD).status == 302
    assert neighbour.get("/client/slots").status == 200
