"""Response hardening: security headers, cookie flags, CSRF on every POST, no inline code for the CSP to block."""

import re
from pathlib import Path

import pytest

from portal import create_app
from tests.factories import PASSWORD, make_user
from tests.support.auth import isolated_client, post_login

TEMPLATES = Path(__file__).resolve().parents[2] / "portal" / "templates"


@pytest.fixture
def client(app):
    """Requests isolated from each other and from the test, like a real browser's."""
    return isolated_client(app)


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/no-such-page", "/static/css/portal.css", "/healthz"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    headers = response.headers
    response.close()
    csp = headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain http here


def test_pages_are_not_cached(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def _cookie(response, name: str) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}="))


def test_cookies_are_http_only_and_same_site_lax_but_not_secure_on_http(client):
    make_user(username="anna")
    response = post_login(client, "anna", remember=True)
    for name in ("session", "remember_token"):
        cookie = _cookie(response, name)
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
        assert "Secure" not in cookie


def test_cookies_are_secure_when_the_public_url_is_https(app_config, session_clock, db):
    secure_app = create_app({**app_config, "PUBLIC_URL": "https://portal.example", "CLOCK": session_clock})
    browser = isolated_client(secure_app)
    make_user(username="anna")
    site = "https://portal.example"
    token = browser.csrf_token("/login", base_url=site)
    data = {"login": "anna", "password": PASSWORD, "remember": "y", "csrf_token": token}
    # Over https Flask-WTF also checks that the Referer is this site, as a browser sends it.
    response = browser.post("/login", data=data, base_url=site, headers={"Referer": f"{site}/login"})
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        cookie = _cookie(response, name)
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def _post_routes(app):
    for rule in app.url_map.iter_rules():
        # The API is authorised by a bearer token only, never a cookie: no CSRF token there (tests/api/).
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            values = {arg: "1" for arg in rule.arguments}
            yield rule.build(values, append_unknown=False)[1]


@pytest.mark.parametrize("who", ["anonymous", "client", "specialist", "admin"])
def test_every_post_without_a_csrf_token_gets_the_400_page(client, app, auth, who):
    if who != "anonymous":
        auth.login_as(make_user(who))
    paths = list(_post_routes(app))
    assert {"/login", "/register", "/logout", "/profile", "/reset-password", "/language"} <= set(paths)
    for path in paths:
        response = client.post(path, data={"login": "x", "email": "x@example.com"})
        assert response.status_code == 400, (path, response.status_code)
        html = response.get_data(as_text=True)
        assert "<h1>Form expired</h1>" in html, path
        wrong = client.post(path, data={"csrf_token": "forged"})
        assert wrong.status_code == 400, path


def test_templates_hold_no_inline_styles_or_scripts():
    """The CSP (no 'unsafe-inline') would silently drop them."""
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for pattern in (r"\sstyle=", r"<script(?![^>]*\ssrc=)", r"\son[a-z]+=\""):
            if re.search(pattern, text):
                offenders.append(f"{template.relative_to(TEMPLATES)}: {pattern}")
    assert offenders == []
