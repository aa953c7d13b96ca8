"""A small HTTP client for the benchmark (standard library only): cookies, forms, links."""

import http.client
import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

USER_AGENT = "portal-bench/1"


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def query_count(self) -> int | None:
        value = self.headers.get("X-Query-Count")
        return int(value) if value is not None else None


class Session:
    """One browser: keeps the cookies; never follows redirects by itself."""

    def __init__(self, base_url: str, timeout: float = 30):
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.host, self.port = parts.hostname, parts.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None) -> Response:
        all_headers = {"User-Agent": USER_AGENT, "Accept-Language": "en", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = self.cookie_header()
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=all_headers)
                raw = self.conn.getresponse()
                text = raw.read().decode("utf-8", "replace")
                break
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        if raw.getheader("Connection", "").lower() == "close":
            self.close()
        for value in raw.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                if morsel.value and "1970" not in morsel.get("expires", ""):
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Response(raw.status, raw.headers, text)

    def get(self, path: str, headers: dict | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, fields, headers: dict | None = None) -> Response:
        return self.request("POST", path, body=urlencode(fields), headers=headers)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Form:
    action: str
    method: str
    fields: list = field(default_factory=list)  # (name, value) of inputs, selects, textareas
    buttons: list = field(default_factory=list)  # (name, value, text)
    selects: dict = field(default_factory=dict)  # name → [(value, text)]

    def submit_fields(self, button_text: str | None = None) -> list:
        """The fields a browser sends when the button with this text is pressed."""
        data = list(self.fields)
        for name, value, text in self.buttons:
            if button_text is not None and text == button_text and name:
                data.append((name, value))
        return data

    def has_button(self, text: str) -> bool:
        return any(b[2] == text for b in self.buttons)


class _FormParser(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.links: dict[str, str] = {}
        self._button: list | None = None
        self._select: str | None = None
        self._option: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self.forms.append(Form(urlsplit(action)._replace(scheme="", netloc="").geturl(), a.get("method", "get")))
        elif tag == "a" and a.get("rel") and a.get("href"):
            self.links[a["rel"]] = unescape(a["href"])
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") in ("submit", "image"):
                self.forms[-1].buttons.append((a["name"], a.get("value", ""), a.get("value", "")))
            elif a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.forms[-1].fields.append((a["name"], a.get("value", "")))
        elif tag == "input" and a.get("type") == "submit":
            self.forms[-1].buttons.append(("", "", a.get("value", "")))
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._button = [a.get("name", ""), a.get("value", ""), ""]
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.forms[-1].selects[self._select] = []
        elif tag == "option" and self._select:
            self._option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea" and a.get("name"):
            self.forms[-1].fields.append((a["name"], ""))

    def handle_data(self, data):
        if self._button is not None:
            self._button[2] += data
        if self._option is not None:
            self._option[1] += data

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self._button[2] = " ".join(self._button[2].split())
            self.forms[-1].buttons.append(tuple(self._button))
            self._button = None
        elif tag == "option" and self._option is not None:
            value, text, selected = self._option
            text = " ".join(text.split())
            options = self.forms[-1].selects[self._select]
            options.append((text if value is None else value, text))
            if selected or len(options) == 1:
                self.forms[-1].fields = [f for f in self.forms[-1].fields if f[0] != self._select]
                self.forms[-1].fields.append((self._select, options[-1][0]))
            self._option = None
        elif tag == "select":
            self._select = None


def parse_page(html: str, page_url: str = "/") -> tuple[list[Form], dict[str, str]]:
    """The forms of a page and its rel=… links."""
    parser = _FormParser(page_url)
    parser.feed(html)
    return parser.forms, parser.links


def csrf_token(html: str) -> str | None:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    return found.group(1) if found else None


def login(base_url: str, username: str, password: str) -> Session:
    """A logged-in session, through the real login form."""
    session = Session(base_url)
    page = session.get("/login")
    forms, _ = parse_page(page.text, "/login")
    form = next(f for f in forms if any(name == "password" for name, _ in f.fields))
    data = dict(form.submit_fields())
    data.update(login=username, password=password)
    data.pop("remember", None)
    answer = session.post(form.action, data)
    if answer.status not in (302, 303):
        raise RuntimeError(f"login as {username} failed: HTTP {answer.status}")
    return session
