"""TRUSTED_PROXIES: forwarded headers are believed only for as many proxies as configured."""

import pytest
from flask import request

from portal import create_app
from portal.config import load_config


@pytest.mark.parametrize(("value", "hops"), [(None, 0), ("", 0), ("0", 0), ("1", 1), ("2", 2)])
def test_trusted_proxies_is_read_from_the_environment(monkeypatch, value, hops):
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/portal")
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    if value is None:
        monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("TRUSTED_PROXIES", value)
    assert load_config()["TRUSTED_PROXIES"] == hops


def seen_by(app_config, trusted: str, headers: dict) -> str:
    """What a view sees as the client's address and the request's scheme and host."""
    portal = create_app({**app_config, "TRUSTED_PROXIES": trusted})
    portal.add_url_rule("/seen", "seen", lambda: f"{request.remote_addr} {request.scheme} {request.host}")
    response = portal.test_client().get("/seen", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    return response.get_data(as_text=True)


FORWARDED = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "portal.example"}


def test_forwarded_headers_are_ignored_without_trusted_proxies(app_config):
    assert seen_by(app_config, "0", FORWARDED) == "10.0.0.2 http localhost"


def test_one_trusted_proxy_is_believed_for_its_own_hop_only(app_config):
    assert seen_by(app_config, "1", FORWARDED) == "198.51.100.7 https portal.example"
    # What a client wrote before the proxy appended the real address is not believed.
    spoofed = {**FORWARDED, "X-Forwarded-For": "1.2.3.4, 198.51.100.7"}
    assert seen_by(app_config, "1", spoofed).startswith("198.51.100.7 ")


def test_two_trusted_proxies_take_the_address_the_outer_one_saw(app_config):
    headers = {**FORWARDED, "X-Forwarded-For": "1.2.3.4, 198.51.100.7, 10.0.0.1"}
    assert seen_by(app_config, "2", headers).startswith("198.51.100.7 ")
