"""axe-core on every page of the portal, in English and Russian, with realistic data: no serious or critical
violation anywhere. The per-page summary is printed and written to test-artifacts/axe-summary-<lang>.txt.

axe is injected with page.evaluate, which Chromium runs through the DevTools protocol: the portal's CSP
(script-src 'self', no inline code) does not apply to it, so the audit runs on the pages exactly as served,
without bypass_csp."""

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import ModerationLog, OutboxEmail, User
from portal.services import tokens
from tests.factories import make_consultation, make_slot, make_user
from tests.support.browser import log_in

pytestmark = pytest.mark.e2e

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 9, 11, 20, tzinfo=BERLIN)  # Wednesday of 2026-W50
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BLOCKING = ("serious", "critical")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


def seed(lang: str) -> SimpleNamespace:
    """A specialist with a busy week, a client with consultations in every state, an admin with users, log, emails."""
    ru = lang == "ru"
    anna = make_user(
        "specialist",
        username="dr_anna",
        display_name="Анна Соколова" if ru else "Anna Sokolova",
        specialty="Психолог" if ru else "Psychologist",
        timezone="Europe/Berlin",
        locale=lang,
    )
    oleg = make_user("specialist", username="oleg.k", specialty="Юрист" if ru else "Lawyer", timezone="Europe/Moscow")
    maria = make_user("client", username="maria_k", display_name="Мария" if ru else "Maria", locale=lang)
    others = [make_user("client", username=name) for name in ("boris", "chen", "dara", "emil")]
    slots = {}
    for key, start, minutes, note in [
        ("past_done", at(7, 10), 45, None),
        ("expired", at(8, 14), 60, "Онлайн" if ru else "Online"),
        ("pending", at(10, 9), 50, "Кабинет 4" if ru else "Room 4"),
        ("accepted", at(10, 14), 45, None),
        ("rejected", at(11, 9), 45, None),
        ("cancelled", at(11, 11), 30, None),
        ("free", at(12, 10), 90, "Онлайн" if ru else "Online"),
        ("busy", at(13, 16), 60, None),
    ]:
        slots[key] = make_slot(anna, starts_at=start, minutes=minutes, note=note)
    for n in range(6):
        make_slot(oleg, starts_at=at(10 + n, 8), minutes=60)
    gone = make_slot(anna, starts_at=at(14, 9), commit=False)
    gone.deleted_at = NOW - timedelta(hours=1)
    db.session.commit()
    make_consultation(slots["past_done"], maria, status="accepted")
    make_consultation(slots["expired"], maria)
    pending = make_consultation(slots["pending"], maria)
    make_consultation(slots["pending"], others[0])
    make_consultation(slots["accepted"], maria, status="accepted")
    make_consultation(slots["rejected"], maria, status="rejected", reject_reason="Занято" if ru else "Fully booked")
    make_consultation(slots["cancelled"], maria, status="cancelled", cancel_reason="Health", cancel_comment="Flu")
    make_consultation(gone, maria, status="cancelled_by_specialist")
    for person in others[1:]:
        make_consultation(slots["busy"], person)
    root = make_user("admin", username="root", locale=lang)
    spammer = make_user("client", username="spammer", blocked=True, blocked_reason="Spam")
    make_user("client", username="new_user", confirmed=False)
    db.session.add(ModerationLog(admin_id=root.id, user_id=spammer.id, action="block", reason="Spam"))
    db.session.add(ModerationLog(admin_id=root.id, user_id=others[3].id, action="unblock"))
    for n, state in enumerate(["queued", "sent", "failed", "sent"]):
        db.session.add(
            OutboxEmail(
                user_id=maria.id,
                recipient=maria.email,
                kind="request_accepted",
                subject="Your request is accepted",
                body_text="…",
                state=state,
                attempts=1 if state != "queued" else 0,
                last_error="SMTP 550: mailbox unavailable" if state == "failed" else None,
                created_at=NOW - timedelta(minutes=5 * n),
            )
        )
    reset_link = tokens.issue_token(maria, tokens.RESET)
    db.session.commit()
    return SimpleNamespace(
        anna=anna.username,
        maria=maria.username,
        root=root.username,
        pending=pending.id,
        free=slots["free"].id,
        spammer=spammer.id,
        victim=others[2].id,
        reset_link=reset_link,
    )


def pages_of(data) -> dict[str | None, list[tuple[str, str]]]:
    """Every page, by the user who sees it (None: anonymous)."""
    return {
        None: [
            ("landing", "/"),
            ("register", "/register"),
            ("registered", "/register/done"),
            ("login", "/login"),
            ("resend", "/confirm/resend"),
            ("reset-request", "/reset-password"),
            ("reset-form", f"/reset-password/{data.reset_link}"),
            ("token-invalid", "/confirm/not-a-token"),
            ("error-404", "/no/such/page"),
        ],
        data.maria: [
            ("client-profile", "/profile"),
            ("client-slots", "/client/slots"),
            ("client-slots-filtered", "/client/slots?specialty=Psychologist&date_from=2026-12-10"),
            ("client-slots-empty", "/client/slots?specialist=nobody"),
            ("client-consultations", "/client/consultations"),
            ("client-consultations-past", "/client/consultations?tab=past"),
            ("cancel-form", f"/client/consultations/{data.pending}/cancel"),
            ("error-403", "/admin/users"),
        ],
        data.anna: [
            ("specialist-profile", "/profile"),
            ("calendar", "/specialist/calendar"),
            ("calendar-empty-week", "/specialist/calendar?week=2027-W02"),
            ("slots", "/specialist/slots"),
            ("slots-past", "/specialist/slots?tab=past"),
            ("new-slot", "/specialist/slots/new"),
            ("edit-slot", f"/specialist/slots/{data.free}/edit"),
            ("delete-slot", f"/specialist/slots/{data.free}/delete"),
            ("webhooks", "/profile/webhooks"),
            *[(f"requests-{s}", f"/specialist/consultations?status={s}") for s in ("pending", "accepted", "rejected")],
            *[(f"requests-{s}", f"/specialist/consultations?status={s}") for s in ("cancelled", "all")],
            ("requests-one-slot", f"/specialist/consultations?slot={data.free}"),
        ],
        data.root: [
            ("admin-overview", "/admin"),
            ("admin-export-errors", "/admin/export/consultations.csv?from=2026-12-31&to=2026-12-01"),
            ("admin-profile", "/profile"),
            ("admin-users", "/admin/users"),
            ("admin-users-blocked", "/admin/users?blocked=yes"),
            ("admin-log", "/admin/log"),
            ("admin-emails", "/admin/emails"),
            ("block-confirmation", f"/admin/users/{data.victim}/block"),
        ],
    }


def audit(page, name: str, lang: str, results: dict) -> None:
    """Run axe on the page as it is now and keep its violations by impact."""
    assert page.locator("html").get_attribute("lang") == lang, name
    violations = Axe().run(page).response["violations"]
    results[f"{name}-{lang}"] = violations


def with_errors(page, url: str, button: str) -> None:
    """A form submitted empty: the page again with its error messages."""
    page.goto(url)
    page.locator(f"main form button[type=submit]:has-text('{button}'), main form input[type=submit]").first.click()
    expect(page.locator(".field-error").first).to_be_visible()


def report(results: dict) -> str:
    lines = []
    for name, violations in results.items():
        impacts = Counter(v["impact"] for v in violations)
        counts = ", ".join(f"{k} {impacts[k]}" for k in ("critical", "serious", "moderate", "minor") if impacts[k])
        rules = ", ".join(sorted({v["id"] for v in violations}))
        lines.append(f"{name}: {len(violations)} violations" + (f" ({counts}: {rules})" if violations else ""))
    return "\n".join(lines)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_page_passes_axe(new_page, db, clock, lang):
    clock.set(NOW)
    data = seed(lang)
    browser_locale = "ru-RU" if lang == "ru" else "en-US"
    results: dict = {}
    for username, pages in pages_of(data).items():
        page = new_page(locale=browser_locale)
        if username:
            log_in(page, username)
        for name, url in pages:
            page.goto(url)
            audit(page, name, lang, results)
    # Forms answering with errors, and the page a blocked user meets.
    page = new_page(locale=browser_locale)
    with_errors(page, "/register", "Создать аккаунт" if lang == "ru" else "Create account")
    audit(page, "register-errors", lang, results)
    log_in(page, data.anna)
    with_errors(page, "/specialist/slots/new", "Сохранить слот" if lang == "ru" else "Save slot")
    audit(page, "new-slot-errors", lang, results)
    with_errors(page, "/profile/webhooks", "Добавить вебхук" if lang == "ru" else "Add webhook")
    audit(page, "webhooks-errors", lang, results)
    maria = new_page(locale=browser_locale)
    log_in(maria, data.maria)
    with_errors(maria, f"/client/consultations/{data.pending}/cancel", "Отменить" if lang == "ru" else "Cancel")
    audit(maria, "cancel-errors", lang, results)
    user = db.session.scalars(select(User).where(User.username == data.maria)).one()
    user.is_blocked = True
    db.session.commit()
    maria.goto("/client/slots")
    expect(maria.locator("h1")).to_have_text("Ваш аккаунт заблокирован" if lang == "ru" else "Your account is blocked")
    audit(maria, "blocked", lang, results)

    summary = report(results)
    print(summary)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-summary-{lang}.txt").write_text(summary + "\n", encoding="utf-8")
    blocking = {
        name: [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
        for name, violations in results.items()
        if any(v["impact"] in BLOCKING for v in violations)
    }
    assert not blocking, blocking
