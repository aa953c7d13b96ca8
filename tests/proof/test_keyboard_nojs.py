"""The booking journey done with the keyboard alone in Chromium (Tab, Shift+Tab, Enter, Space, typing; after the
start only the login page is ever opened by address), with visible focus and a working skip link; then every state
change of the portal done with JavaScript disabled."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Consultation, OutboxEmail, Slot, User
from tests.factories import PASSWORD, make_slot, make_user
from tests.support.browser import log_in

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)

# Whether the focused element shows a focus indicator: an outline or a box shadow it does not have unfocused.
FOCUS_STYLE = """() => {
  const el = document.activeElement;
  const look = () => { const s = getComputedStyle(el);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 ? s.outlineStyle + s.outlineColor : '')
      + '|' + (s.boxShadow === 'none' ? '' : s.boxShadow); };
  const focusedLook = look();
  el.blur();
  const restingLook = look();
  el.focus();
  return {tag: el.tagName, text: (el.innerText || el.value || '').trim().slice(0, 40), inMain: !!el.closest('main'),
          visible: focusedLook !== '|' && focusedLook !== restingLook, focusedLook, restingLook};
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUS_STYLE)


def tab_to(page, selector: str, limit: int = 80, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches the selector; fail if it never comes."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never took the focus in {limit} presses of {key} on {page.url}")


def activate(page, key: str = "Enter") -> None:
    """Press a key that follows a link or submits a form, and wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press(key)


def assert_focus_visible(page) -> None:
    state = focused(page)
    assert state["visible"], f"no visible focus on {state} at {page.url}"


def assert_no_trap(page) -> None:
    """Tabbing from the top reaches every tabbable element of the page and leaves it again."""
    count = page.evaluate(
        """() => [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')]
              .filter(el => !el.disabled && el.offsetParent !== null && el.tabIndex >= 0).length"""
    )
    page.evaluate("document.activeElement && document.activeElement.blur()")
    seen = set()
    for _ in range(count + 3):
        page.keyboard.press("Tab")
        seen.add(page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)"))
    assert len(seen) >= count, f"only {len(seen)} of {count} controls reached by Tab on {page.url}"


def log_in_by_keyboard(page, username: str) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')"), "the skip link comes first"
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    state = focused(page)
    assert state["inMain"] and page.evaluate("document.activeElement.id") == "login", state  # header skipped
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    activate(page)
    expect(page.locator("form[action='/logout']")).to_be_attached()


def test_booking_journey_by_keyboard_only(new_page, db, clock, screenshot):
    clock.set(NOW)
    anna = make_user("specialist", username="dr_anna", specialty="Psychologist", timezone="Europe/Berlin")
    oleg = make_user("specialist", username="oleg", specialty="Lawyer")
    make_slot(oleg, starts_at=datetime(2026, 12, 9, 8, 0, tzinfo=UTC))
    wanted = make_slot(anna, starts_at=datetime(2026, 12, 10, 9, 0, tzinfo=UTC), note="Online")
    make_user("client", username="maria")

    client = new_page()
    log_in_by_keyboard(client, "maria")
    expect(client).to_have_url(re.compile(r"/client/slots(#main)?$"))
    tab_to(client, "#specialty")
    assert_focus_visible(client)
    client.keyboard.type("Psych")  # a select picks the option its typed letters begin
    tab_to(client, "form[role=search] button[type=submit]")
    activate(client)
    expect(client).to_have_url(re.compile(r"specialty=Psych"))
    expect(client.locator("tbody tr")).to_have_count(1)
    tab_to(client, f"#slot-{wanted.id} button")
    assert_focus_visible(client)
    screenshot(client, "keyboard-focus-request-button")
    activate(client)
    expect(client.locator(".alert-success")).to_contain_text("Your request is sent")
    expect(client).to_have_url(re.compile(rf"/client/slots\?.*specialty=Psychologist[^#]*#slot-{wanted.id}$"))
    request = db.session.scalars(select(Consultation)).one()
    assert (request.slot_id, request.status) == (wanted.id, "pending")

    specialist = new_page()
    log_in_by_keyboard(specialist, "dr_anna")
    tab_to(specialist, "nav a[href='/specialist/consultations']")
    assert_focus_visible(specialist)
    activate(specialist)
    expect(specialist.locator("h1")).to_have_text("Requests")
    assert_no_trap(specialist)
    tab_to(specialist, f"form[action='/specialist/consultations/{request.id}/accept'] button")
    assert_focus_visible(specialist)
    activate(specialist, "Space")
    expect(specialist.locator(".alert-success")).to_contain_text("You accepted the request of @maria")
    db.session.expire_all()
    assert db.session.get(Consultation, request.id).status == "accepted"

    tab_to(client, "nav a[href='/client/consultations']", backwards=True)
    activate(client)
    tab_to(client, "a.cancel-link")
    assert_focus_visible(client)
    activate(client)
    expect(client.locator("h1")).to_have_text("Cancel consultation")
    assert_no_trap(client)
    tab_to(client, "#reason")
    assert_focus_visible(client)
    screenshot(client, "keyboard-focus-cancel-reason")
    client.keyboard.type("Personal")
    assert client.locator("#reason").input_value() == "Personal"
    client.keyboard.press("Tab")
    client.keyboard.type("Feeling better, thank you")
    tab_to(client, "main button[type=submit]")
    assert_focus_visible(client)
    activate(client)
    expect(client.locator(".alert-success")).to_contain_text("The consultation is cancelled")
    db.session.expire_all()
    cancelled = db.session.get(Consultation, request.id)
    assert (cancelled.status, cancelled.cancel_reason, cancelled.cancel_comment) == (
        "cancelled",
        "Personal",
        "Feeling better, thank you",
    )


def test_everything_works_without_javascript(new_page, db, clock):
    clock.set(NOW)
    make_user("client", username="maria")
    troll = make_user("client", username="troll")
    make_user("admin", username="root")

    # Register: the time zone falls back to DEFAULT_TIMEZONE, the specialist fields are there without script.
    doc = new_page(javascript=False)
    doc.goto("/register")
    expect(doc.locator("#timezone")).to_have_value("UTC")
    doc.get_by_label("Username").fill("nojs_doc")
    doc.get_by_label("Email").fill("nojs@example.com")
    doc.get_by_label("Password", exact=True).fill("plum-orbit-canvas-71")
    doc.get_by_label("Confirm password").fill("plum-orbit-canvas-71")
    doc.get_by_label("Role").select_option("specialist")
    doc.get_by_label("Specialty").fill("Psychologist")
    doc.get_by_role("button", name="Create account").click()
    expect(doc).to_have_url(re.compile(r"/register/done$"))
    user = db.session.scalars(select(User).where(User.username == "nojs_doc")).one()
    assert (user.timezone, user.role, user.confirmed_at) == ("UTC", "specialist", None)
    link = re.search(r"/confirm/[\w-]+", db.session.scalars(select(OutboxEmail.body_text)).one()).group(0)
    doc.goto(link)
    expect(doc.locator(".alert-success")).to_contain_text("your email address is confirmed")

    # Publish two slots.
    log_in(doc, "nojs_doc", "plum-orbit-canvas-71")
    for start, end in (("10:00", "10:45"), ("12:00", "12:30")):
        doc.goto("/specialist/slots/new")
        doc.get_by_label("Date").fill("2026-12-10")
        doc.get_by_label("Start time").fill(start)
        doc.get_by_label("End time").fill(end)
        doc.get_by_role("button", name="Save slot").click()
        expect(doc.locator(".alert-success")).to_contain_text("The slot is saved.")
    first, second = db.session.scalars(select(Slot).order_by(Slot.starts_at)).all()

    # A client requests both; the specialist accepts one; the client cancels it with a reason.
    client = new_page(javascript=False)
    log_in(client, "maria")
    for slot in (first, second):
        client.locator(f"#slot-{slot.id}").get_by_role("button", name="Request").click()
        expect(client.locator(".alert-success")).to_contain_text("Your request is sent")
    doc.goto("/specialist/consultations")
    doc.locator("tbody tr:not(.slot-head)").first.get_by_role("button", name="Accept").click()
    expect(doc.locator(".alert-success")).to_contain_text("You accepted the request of @maria")
    client.goto("/client/consultations")
    client.locator("tr:has(.status-accepted)").get_by_role("link", name="Cancel…").click()
    client.get_by_label("Reason").select_option("Health")
    client.get_by_role("button", name="Cancel consultation").click()
    expect(client.locator(".alert-success")).to_contain_text("The consultation is cancelled")
    db.session.expire_all()
    statuses = dict(db.session.execute(select(Consultation.slot_id, Consultation.status)).all())
    assert statuses == {first.id: "cancelled", second.id: "pending"}

    # Delete the slot still requested, through its confirmation page.
    doc.goto("/specialist/slots")
    doc.locator("tr", has=doc.locator(f"a[href='/specialist/slots/{second.id}/edit']")).get_by_role(
        "button", name="Delete"
    ).click()
    expect(doc.locator("h1")).to_have_text("Delete slot")
    doc.locator("main").get_by_role("button", name="Delete").click()
    expect(doc.locator(".alert-success")).to_contain_text("1 client was notified")
    db.session.expire_all()
    assert db.session.get(Slot, second.id).deleted_at is not None
    assert db.session.get(Consultation, _request_on(second.id)).status == "cancelled_by_specialist"

    # Block a user from the admin page.
    admin = new_page(javascript=False)
    log_in(admin, "root")
    admin.goto("/admin/users")
    admin.locator(f"#user-{troll.id}").get_by_role("link", name="Block").click()  # the confirmation page
    admin.get_by_label("Reason").fill("Insults other users")
    admin.get_by_role("button", name="Block").click()
    expect(admin.locator(".alert-success")).to_contain_text("troll is blocked")
    db.session.expire_all()
    blocked = db.session.get(User, troll.id)
    assert (blocked.is_blocked, blocked.blocked_reason) == (True, "Insults other users")


def _request_on(slot_id: int) -> int:
    return db.session.scalars(select(Consultation.id).where(Consultation.slot_id == slot_id)).one()
