"""A loopback webhook receiver, and this suite's own check of Standard Webhooks signatures.

The check is written here from the specification (https://www.standardwebhooks.com), not imported from the
portal: a signature the portal gets wrong fails here even if the portal agrees with itself."""

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify_signature(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether any `v1,` signature in `webhook-signature` is HMAC-SHA256 of "<id>.<timestamp>.<body>" under the
    secret (base64 after its `whsec_` prefix), compared in constant time."""
    msg_id, timestamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isdigit() or not secret.startswith("whsec_"):
        return False
    key = base64.b64decode(secret[len("whsec_") :])
    expected = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256).digest()
    for candidate in headers.get("webhook-signature", "").split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(base64.b64encode(expected).decode(), value):
            return True
    return False


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def message_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """A threaded HTTP server on 127.0.0.1 that keeps every POST and answers `status` (settable), after
    `delay` seconds; `redirect_to` makes it answer 302 with that Location instead."""

    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status = status
        self.delay = delay
        self.redirect_to: str | None = None
        self.received: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    status, location, delay = receiver.status, receiver.redirect_to, receiver.delay
                if delay:
                    time.sleep(delay)
                self.send_response(302 if location else status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def messages(self, path: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.received if path is None or r.path == path]


def deliver_due(now) -> list[str]:
    """Run, in this process, every queued delivery due at `now` (what the worker's jobs would do); the outcomes."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import WebhookDelivery
    from portal.webhooks.send import deliver_webhook

    db.session.rollback()
    ids = db.session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.state == "queued", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.id)
    ).all()
    db.session.rollback()
    return [deliver_webhook(i) for i in ids]
