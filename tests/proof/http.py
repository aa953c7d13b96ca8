"""Real HTTP for the proof suite: the portal under gunicorn, and a small browser that reads forms from pages.

Standard library only: each request is one HTTP/1.1 connection, cookies are kept by name, redirects are
never followed by themselves (the tests look at every answer)."""

import html
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

from tests.support.paths import ROOT, free_port


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str
    url: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")

    def forms(self) -> list["Form"]:
        return parse_forms(self.text, self.url)

    def flashes(self) -> list[str]:
        """The flashed messages shown at the top of the page."""
        found = re.findall(r'<div class="alert alert-[a-z]+">(.*?)</div>', self.text, re.S)
        return [html.unescape(re.sub(r"\s+", " ", m)).strip() for m in found]


class Browser:
    """One person's browser against one server: a cookie jar and a record of every status seen.

    With an `address`, every request carries `X-Forwarded-For: <address>`, as a reverse proxy in front of the
    portal would add it for a browser at that address."""

    def __init__(self, base_url: str, address: str | None = None, timeout: float = 60.0):
        self.base_url = base_url.rstrip("/")
        self.cookies: dict[str, str] = {}
        self.statuses: list[tuple[str, str, int]] = []
        self.timeout = timeout
        self.address = address

    def request(self, method: str, path: str, data=None) -> Answer:
        parts = urlsplit(urljoin(self.base_url + "/", path))
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Connection": "close", "Accept-Language": "en", "User-Agent": "portal-proof"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.address:
            headers["X-Forwarded-For"] = self.address
        body = None
        if data is not None:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            header_list = response.getheaders()
        finally:
            conn.close()
        for name, value in header_list:
            if name.lower() == "set-cookie":
                self._store_cookie(value)
        answer = Answer(
            response.status,
            {name.lower(): value for name, value in header_list},
            raw.decode("utf-8", errors="replace"),
            target,
        )
        self.statuses.append((method, parts.path, answer.status))
        return answer

    def _store_cookie(self, header: str) -> None:
        pair, *attributes = header.split(";")
        name, _, value = pair.strip().partition("=")
        expired = any(
            a.strip().lower().startswith("max-age=0") or a.strip().lower().startswith("expires=thu, 01 jan 1970")
            for a in attributes
        )
        if expired or not value:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, data) -> Answer:
        return self.request("POST", path, data)

    def follow(self, answer: Answer) -> Answer:
        """GET the page a redirect points to (the answer itself when it is no redirect)."""
        if answer.status in (301, 302, 303) and answer.location:
            return self.get(answer.location)
        return answer

    def login(self, username: str, password: str) -> Answer:
        """Log in through the real form; the redirect answer."""
        page = self.get("/login")
        form = page_form(page, action="/login")
        return self.post(form.action, form.values(login=username, password=password))


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)

    def values(self, **overrides) -> list[tuple[str, str]]:
        """The form as a browser submits it, with some fields filled in."""
        seen = set()
        result = []
        for name, value in self.fields:
            if name in overrides:
                if name in seen:
                    continue
                value = overrides[name]
            seen.add(name)
            result.append((name, value))
        result.extend((name, value) for name, value in overrides.items() if name not in seen)
        return result


class _FormParser(HTMLParser):
    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.current = Form(urljoin(self.base, a.get("action") or self.base), (a.get("method") or "get").lower())
            self.forms.append(self.current)
        elif self.current is None:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "checkbox", "radio"):
            self.current.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and "selected" in a:
            self.current.fields.append((self.select, a.get("value", "")))
        elif tag == "textarea":
            self.textarea = a.get("name")
            self.current.fields.append((self.textarea, ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def parse_forms(text: str, base: str = "/") -> list[Form]:
    parser = _FormParser(base)
    parser.feed(text)
    return parser.forms


def page_form(answer: Answer, action: str | None = None, contains: str | None = None) -> Form:
    """The POST form of a page acting on `action` (or whose action contains `contains`)."""
    for form in answer.forms():
        if form.method != "post":
            continue
        if (action and form.action == action) or (contains and contains in form.action):
            return form
    raise AssertionError(f"no POST form {action or contains!r} on {answer.url} (HTTP {answer.status})")


def server_env(app_config: dict, **overrides) -> dict:
    """The environment of a web process wired like the test app (same database, Redis and secret)."""
    env = {**os.environ, **app_config, "PYTHONUNBUFFERED": "1", **overrides}
    env.pop("FLASK_APP", None)
    return env


class Gunicorn:
    """`gunicorn wsgi:app` as production runs it, on a free local port."""

    def __init__(self, env: dict, log_dir: Path, workers: int = 1, threads: int = 1, name: str = "web"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.workers = workers
        self.threads = threads
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "Gunicorn":
        command = [
            sys.executable, "-m", "gunicorn",
            "--workers", str(self.workers),
            "--bind", f"127.0.0.1:{self.port}",
            "--error-logfile", str(self.log_path),
            "--graceful-timeout", "5",
        ]  # fmt: skip
        if self.threads > 1:
            command += ["--worker-class", "gthread", "--threads", str(self.threads)]
        self.process = subprocess.Popen(
            [*command, "wsgi:app"], cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log()}"
            try:
                if Browser(self.url, timeout=2).get("/healthz").status == 200 and self._workers_up():
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not come up:\n{self.log()}")

    def _workers_up(self) -> bool:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return len(path.read_text().split()) >= self.workers
        except OSError:
            return True

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def errors(self) -> list[str]:
        """Lines of the error log that report a failure inside a request."""
        return [line for line in self.log().splitlines() if "Traceback" in line or " ERROR " in line]


def is_local(location: str) -> bool:
    """A redirect target a browser resolves on this site only."""
    parts = urlsplit(location)
    return (
        not parts.scheme
        and not parts.netloc
        and location.startswith("/")
        and not location.startswith("//")
        and "\\" not in location
    )
