"""Trust in reverse proxies: the client's address and scheme come from X-Forwarded-* only when configured.

`TRUSTED_PROXIES` is the number of proxies in front of the portal (0 by default). With 0 the forwarded
headers are ignored, so nobody can pick the address their login failures are counted against by sending
X-Forwarded-For. With N, Werkzeug's ProxyFix takes the N-th value from the right of each header: the one
the outermost trusted proxy wrote, whatever a client put before it.
"""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    """Wrap the WSGI app in ProxyFix when proxies are trusted; otherwise leave it alone."""
    hops = app.config.get("TRUSTED_PROXIES") or 0
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
