"""Webhook signatures and the address check, without services (IP literals: no name is looked up)."""

import pytest

from portal.webhooks.address import AddressRefused, check_url, is_public, split_url
from portal.webhooks.signing import headers, new_message_id, new_secret, signature
from tests.support.webhooks import verify_signature

# The example of the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_signature_of_the_specifications_example():
    assert signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_signed_headers_pass_the_suites_own_check_and_fail_when_anything_changes():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret) == 6 + 44
    msg_id = new_message_id()
    sent = headers(secret, msg_id, 1_800_000_000, b'{"a":1}')
    assert sent["webhook-id"] == msg_id and sent["webhook-timestamp"] == "1800000000"
    assert verify_signature(secret, sent, b'{"a":1}')
    assert not verify_signature(secret, sent, b'{"a":2}')
    assert not verify_signature(new_secret(), sent, b'{"a":1}')
    assert not verify_signature(secret, {**sent, "webhook-timestamp": "1800000001"}, b'{"a":1}')
    assert not verify_signature(secret, {**sent, "webhook-id": new_message_id()}, b'{"a":1}')


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "10.255.1.2",
        "169.254.169.254",
        "127.0.0.1",
        "127.8.8.8",
        "0.0.0.0",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "224.0.0.1",
        "240.0.0.1",
    ],
)
def test_private_loopback_link_local_and_reserved_addresses_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are(address):
    assert is_public(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.7/hook",
        "https://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/",
        "http://[::1]/hook",
        "http://0x7f.1/hook",
        "http://2130706433/hook",
        "http://[::ffff:a00:1]/",
    ],
)
def test_urls_to_private_addresses_are_refused_unless_allowed(url):
    with pytest.raises(AddressRefused):
        check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://8.8.8.8/",
        "file:///etc/passwd",
        "http://",
        "https://user:pw@8.8.8.8/",
        "http://8.8.8.8:99999/",
        "https://8.8.8.8/a b",
        "javascript:alert(1)",
        "http://8.8.8.8\x00/",
        "//8.8.8.8/x",
        "http://8.8.8.8:0/",
    ],
)
def test_urls_that_are_not_http_addresses_are_refused(url):
    with pytest.raises(AddressRefused):
        split_url(url)


def test_a_public_literal_passes_and_a_private_one_passes_when_allowed():
    assert check_url("https://8.8.8.8/hook?x=1", allow_private=False) == "8.8.8.8"
    assert check_url("http://10.0.0.7:8080/hook", allow_private=True) == "10.0.0.7"
    assert split_url("HTTPS://8.8.8.8/") == ("https", "8.8.8.8", 443)
