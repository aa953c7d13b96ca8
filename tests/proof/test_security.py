"""The security checklist under attack: open redirects, response headers, cookie flags, login throttling
(per account, per address, shared by app instances), password reset that tells nothing, replayed cookies."""

import html as html_lib
import re
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest

from portal import create_app
from portal.clock import utcnow
from portal.extensions import db as _db
from portal.models import OutboxEmail
from portal.services import email_requests
from tests.factories import PASSWORD, make_consultation, make_slot, make_user
from tests.proof.http import is_local
from tests.support.auth import copy_of, isolated_client, post_login
from tests.support.pages import form_alert
from tests.support.web import CSRF_RE, PortalClient

EVIL = [
    "//evil.com",
    "https://evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "javascript:alert(1)",
    "%2F%2Fevil.com",
    "http:evil.com",
    "///evil.com",
]
THROTTLED = "Too many failed attempts. Please wait 15 minutes and try again."
NEW_PASSWORD = "violet-harbour-quartz-58"


@pytest.fixture(scope="module")
def app(app_config, session_clock, run_id):
    """The test app with a queue of its own: the emails these attacks cause are never delivered by the suite's worker
    after the test that caused them has ended."""
    application = create_app({**app_config, "CLOCK": session_clock, "RQ_QUEUE_PREFIX": f"{run_id}security-"})
    application.test_client_class = PortalClient
    return application


@pytest.fixture
def browser(app):
    return isolated_client(app)


# ------------------------------------------------------------------------------------------ open redirects


@pytest.mark.parametrize("target", EVIL)
def test_login_next_never_leaves_the_site(browser, target):
    make_user(username="anna")
    # As a browser sends a typed address (raw) and as a form encodes it.
    for query in (f"next={target}", urlencode({"next": target}), f"next={quote(target, safe='')}"):
        response = browser.submit(f"/login?{query}", {"login": "anna", "password": PASSWORD}, from_url="/login")
        assert response.status_code == 302, query
        assert response.headers["Location"] == "/client/slots", query
        # Already logged in, /login sends the visitor on: still only within the site.
        again = browser.get(f"/login?{query}")
        assert again.status_code == 302 and is_local(again.headers["Location"]), (query, again.headers["Location"])
        browser.submit("/logout", {}, from_url="/profile")


@pytest.mark.clock
@pytest.mark.parametrize("target", EVIL)
def test_every_form_with_a_next_field_returns_within_the_site(app, db, target):
    """Language switch, request, accept, reject, block, unblock, retry: each honours `next` only on this site."""
    specialist, client, admin = make_user("specialist"), make_user("client"), make_user("admin")
    slot = make_slot(specialist)
    pending = [
        make_consultation(make_slot(specialist, starts_in=timedelta(days=3, hours=n)), client).id for n in range(2)
    ]
    failed = OutboxEmail(recipient="x@example.com", kind="k", subject="s", body_text="b", state="failed", attempts=3)
    db.session.add(failed)
    db.session.commit()
    victim, blocked = make_user("client").id, make_user("client", blocked=True).id
    posts = {
        "client": [("/language", {"lang": "en"}), (f"/client/slots/{slot.id}/request", {})],
        "specialist": [
            (f"/specialist/consultations/{pending[0]}/accept", {}),
            (f"/specialist/consultations/{pending[1]}/reject", {}),
        ],
        "admin": [
            (f"/admin/users/{victim}/block", {"confirm": "yes"}),
            (f"/admin/users/{blocked}/unblock", {}),
            (f"/admin/emails/{failed.id}/retry", {}),
        ],
    }
    for user in (client, specialist, admin):
        browser = isolated_client(app)
        post_login(browser, user.username)
        token = browser.csrf_token("/profile")
        for path, data in posts[user.role]:
            response = browser.post(path, data={**data, "next": target, "csrf_token": token})
            assert response.status_code in (302, 303), (path, response.status_code)
            assert is_local(response.headers["Location"]), (path, response.headers["Location"])
    # The admin's block confirmation page links back only within the site, too.
    browser = isolated_client(app)
    post_login(browser, admin.username)
    html = browser.get(f"/admin/users/{make_user('client').id}/block?{urlencode({'next': target})}").get_data(
        as_text=True
    )
    links = re.findall(r'href="([^"#][^"]*)"', html) + re.findall(r'name="next"[^>]*value="([^"]*)"', html)
    assert links
    for link in links:
        assert is_local(html_lib.unescape(link)), link


# ------------------------------------------------------------------------------------------ headers and cookies


def _get_pages(app):
    """Every page of the portal without URL arguments."""
    return sorted(r.rule for r in app.url_map.iter_rules() if "GET" in r.methods and not r.arguments)


@pytest.mark.parametrize("role", ["anonymous", "client", "specialist", "admin"])
def test_every_page_carries_the_security_headers(app, browser, role):
    if role != "anonymous":
        post_login(browser, make_user(role).username)
    pages = _get_pages(app)
    assert len(pages) >= 15
    for path in pages:
        response = browser.get(path)
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
        assert directives.get("frame-ancestors") == "'none'", path
        assert directives.get("script-src") == "'self'" and directives.get("style-src") == "'self'", path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        assert headers.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin", "no-referrer"), path
        assert headers.get("X-Frame-Options") == "DENY", path


def cookie_line(response, name: str) -> str:
    found = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert found, f"no {name} cookie"
    return found[0]


def test_session_and_remember_cookies_are_http_only_and_lax_but_not_secure_over_http(browser):
    user = make_user()
    response = post_login(browser, user.username, remember=True)
    for name in ("session", "remember_token"):
        flags = [f.strip() for f in cookie_line(response, name).split(";")]
        assert "HttpOnly" in flags and "SameSite=Lax" in flags, flags
        assert "Secure" not in flags, flags


def test_cookies_are_secure_when_the_public_url_is_https(app_config, session_clock):
    secure = create_app({**app_config, "PUBLIC_URL": "https://portal.example", "CLOCK": session_clock})
    secure.test_client_class = PortalClient
    browser = isolated_client(secure)
    with secure.app_context():
        user = make_user()
        site = "https://portal.example"
        data = {
            "login": user.username,
            "password": PASSWORD,
            "remember": "y",
            "csrf_token": browser.csrf_token("/login", base_url=site),
        }
        # Over https the CSRF check also wants the Referer of this site, as a browser sends it.
        response = browser.post("/login", data=data, base_url=site, headers={"Referer": f"{site}/login"})
        _db.session.remove()
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        flags = [f.strip() for f in cookie_line(response, name).split(";")]
        assert {"Secure", "HttpOnly", "SameSite=Lax"} <= set(flags), flags


# ------------------------------------------------------------------------------------------ login throttling


def is_logged_in(browser) -> bool:
    return browser.get("/profile").status_code == 200


def test_the_sixth_attempt_on_one_account_is_refused_from_any_address_even_with_the_right_password(browser):
    make_user(username="anna")
    for n in range(5):
        assert post_login(browser, "anna", "wrong-password-1", address=f"198.51.100.{n}").status_code == 422
    refused = post_login(browser, "anna", address="203.0.113.7")
    assert refused.status_code == 429
    assert form_alert(refused.get_data(as_text=True)) == THROTTLED
    assert not is_logged_in(browser)
    make_user(username="boris")  # another account from the same addresses is not affected
    assert post_login(browser, "boris", address="198.51.100.1").status_code == 302


def test_the_twenty_first_attempt_from_one_address_is_refused_across_accounts(browser):
    for n in range(10):
        make_user(username=f"user{n}")
    for n in range(20):  # half real accounts, half guessed names
        name = f"user{n}" if n < 10 else f"guess{n}"
        assert post_login(browser, name, "wrong-password-1", address="192.0.2.66").status_code == 422, n
    make_user(username="carol")  # no failure of her own, yet this address is stopped
    refused = post_login(browser, "carol", address="192.0.2.66")
    assert refused.status_code == 429
    assert form_alert(refused.get_data(as_text=True)) == THROTTLED
    assert post_login(browser, "carol", address="192.0.2.67").status_code == 302


def test_two_app_instances_on_one_redis_share_the_counts(app_config, session_clock, db):
    apps = [create_app({**app_config, "CLOCK": session_clock}) for _ in range(2)]
    for application in apps:
        application.test_client_class = PortalClient
    browsers = [isolated_client(a) for a in apps]
    make_user(username="anna")
    for n in range(5):  # failures alternate between the two instances
        assert post_login(browsers[n % 2], "anna", "wrong-password-1", address=f"198.51.100.{n}").status_code == 422
    for browser in browsers:
        assert post_login(browser, "anna", address="203.0.113.9").status_code == 429


# ------------------------------------------------------------------------------------------ password reset


def reset_answer(app, email: str) -> tuple:
    """Everything a visitor sees after asking for a reset link: status, target, page, flash."""
    browser = isolated_client(app)
    response = browser.submit("/reset-password", {"email": email})
    page = browser.get(response.headers.get("Location", "/login")).get_data(as_text=True)
    flash = re.findall(r'<div class="alert alert-[a-z]+">(.*?)</div>', page, re.S)
    scrub = lambda html: CSRF_RE.sub("csrf", html)  # noqa: E731 (the token differs per visitor by design)
    return (
        response.status_code,
        response.headers.get("Location"),
        scrub(response.get_data(as_text=True)),
        scrub(page),
        flash,
    )


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(app, db):
    make_user(username="anna", email="anna@example.com")
    make_user(username="mallory", email="mallory@example.com", blocked=True)
    known = reset_answer(app, "anna@example.com")
    assert known[0] == 302 and known[4], known[:2]
    for other in ("nobody@example.com", "ANNA@example.org", "mallory@example.com"):
        assert reset_answer(app, other) == known, other
    with app.app_context():  # what the worker does: look each address up (emails stay on this module's queue)
        assert email_requests.handle_stale(utcnow()) == 4
        _db.session.remove()
    sent = db.session.query(OutboxEmail.recipient).filter_by(kind="reset_password").all()
    assert sent == [("anna@example.com",)]  # only the real, active account got a link


# ------------------------------------------------------------------------------------------ replayed cookies


def test_a_copied_session_cookie_is_refused_after_logout(app, browser):
    user = make_user()
    post_login(browser, user.username, remember=True)
    copied, remembered = copy_of(browser, app), copy_of(browser, app, names=("remember_token",))
    assert is_logged_in(copied) and is_logged_in(remembered)
    browser.submit("/logout", {}, from_url="/profile")
    for replay in (copied, remembered, copy_of(copied, app)):
        assert replay.get("/profile").status_code == 302
        assert replay.get("/profile").headers["Location"].startswith("/login")


def test_a_copied_session_cookie_is_refused_after_a_password_change(app, browser, db):
    user = make_user()
    post_login(browser, user.username, remember=True)
    before_change = copy_of(browser, app)
    elsewhere = isolated_client(app)
    post_login(elsewhere, user.username)
    token = browser.csrf_token("/profile")
    response = browser.post(
        "/profile",
        data={
            "password-csrf_token": token,
            "password-current_password": PASSWORD,
            "password-new_password": NEW_PASSWORD,
            "password-confirm": NEW_PASSWORD,
            "password-submit": "Change password",
        },
    )
    assert response.status_code == 302
    assert is_logged_in(browser)  # the session that changed it carries on
    for replay in (before_change, elsewhere, copy_of(before_change, app, names=("remember_token",))):
        assert not is_logged_in(replay)
