"""Where a webhook may go: http(s) URLs whose host resolves only to public addresses (no SSRF into the
portal's own network), checked when the URL is saved and again, freshly resolved, before every attempt."""

import ipaddress
import socket
from urllib.parse import urlsplit

from portal.i18n import lazy_gettext as _l

URL_MAX = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}

BAD_URL = _l("Enter an address starting with https:// or http://.")
WITH_PASSWORD = _l("Leave the user name and password out of the address.")
UNKNOWN_HOST = _l("This host name cannot be resolved.")
PRIVATE = _l("This address leads to a private, loopback or link-local network; webhooks go to public addresses only.")


class AddressRefused(Exception):
    """A URL a webhook may not be sent to; `message` says why, for the form or the delivery log."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable webhook URL, else AddressRefused."""
    if not url or len(url) > URL_MAX or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise AddressRefused(BAD_URL)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise AddressRefused(BAD_URL) from error
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host or port == 0:
        raise AddressRefused(BAD_URL)
    if parts.username is not None or parts.password is not None:
        raise AddressRefused(WITH_PASSWORD)
    try:
        host.encode("idna")
    except UnicodeError as error:
        raise AddressRefused(BAD_URL) from error
    return scheme, host, port or DEFAULT_PORTS[scheme]


def is_public(address: str) -> bool:
    """Whether an IP address is a public unicast one (not private, loopback, link-local, reserved, shared…)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def resolve(host: str, port: int, allow_private: bool) -> list[str]:
    """The host's addresses, all of them public unless `allow_private`; else AddressRefused.

    Every address must pass: a name that resolves to one public and one private address could be
    answered either way at send time."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:
        raise AddressRefused(UNKNOWN_HOST) from error
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not addresses:
        raise AddressRefused(UNKNOWN_HOST)
    if not allow_private and not all(is_public(a) for a in addresses):
        raise AddressRefused(PRIVATE)
    return addresses


def check_url(url: str, allow_private: bool) -> str:
    """The first address a webhook to `url` may connect to; AddressRefused if the URL may not be used."""
    _scheme, host, port = split_url(url)
    return resolve(host, port, allow_private)[0]
