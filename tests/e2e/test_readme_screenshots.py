"""The README's screenshots, taken from the running portal with realistic data.

Always saved under test-artifacts/screenshots/readme-*.png; `make screenshots` also copies them to docs/screenshots/."""

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.extensions import db as _db
from portal.models import ModerationLog
from tests.factories import make_consultation, make_slot, make_user
from tests.support.browser import log_in
from tests.support.paths import ROOT, SCREENSHOT_DIR

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 12, 9, 8, 30, tzinfo=UTC)  # a Wednesday morning in Europe
TARGET = os.environ.get("README_SCREENSHOTS_DIR")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in week 2026-W50 (Monday 7 December), Berlin wall time given as UTC+1."""
    return datetime(2026, 12, 7, tzinfo=UTC) + timedelta(days=day, hours=hour - 1, minutes=minute)


def build_portal():
    doctor = make_user(
        "specialist",
        username="dr_weber",
        display_name="Dr. Lena Weber",
        specialty="Psychologist",
        timezone="Europe/Berlin",
    )
    lawyer = make_user(
        "specialist",
        username="m.novak",
        display_name="Marek Novak",
        specialty="Family lawyer",
        timezone="Europe/Berlin",
    )
    coach = make_user(
        "specialist",
        username="career_anna",
        display_name="Anna Lindqvist",
        specialty="Career coach",
        timezone="Europe/Stockholm",
    )
    names = [("sofia", "Sofia Rossi"), ("tom.h", "Tom Hughes"), ("yuki", "Yuki Tanaka"), ("omar", "Omar Haddad")]
    clients = [make_user("client", username=u, display_name=n, timezone="Europe/Berlin") for u, n in names]
    notes = ["Video call", "In person, room 2", None, "Video call"]
    slots = []
    for day in range(0, 5):
        for i, hour in enumerate((9, 11, 14, 16)):
            minutes = 50 if hour != 14 else 90
            slots.append(make_slot(doctor, starts_at=at(day, hour), minutes=minutes, note=notes[i], commit=False))
    for day in (1, 2, 3, 4):
        make_slot(lawyer, starts_at=at(day, 10), minutes=60, note="Bring your documents", commit=False)
        make_slot(coach, starts_at=at(day, 13, 30), minutes=45, note="Video call", commit=False)
    _db.session.commit()
    # Past and future requests in every state for the doctor.
    make_consultation(slots[0], clients[0], status="accepted")
    make_consultation(slots[5], clients[1], status="accepted")
    for slot, client in (
        (slots[9], clients[2]),
        (slots[9], clients[3]),
        (slots[10], clients[0]),
        (slots[13], clients[1]),
    ):
        make_consultation(slot, client)
    make_consultation(slots[14], clients[2], status="cancelled", cancel_reason="Personal")
    admin = make_user("admin", username="admin", timezone="Europe/Berlin")
    blocked = make_user(
        "client",
        username="spam_bot",
        email="offers@spam.example",
        blocked=True,
        blocked_reason="Sent advertising to specialists",
    )
    _db.session.add(
        ModerationLog(admin_id=admin.id, user_id=blocked.id, action="block", reason="Sent advertising to specialists")
    )
    _db.session.commit()
    return {"specialist": doctor, "client": clients[3], "admin": admin}


SHOTS = [
    ("client", "/specialists", "directory"),
    ("client", "/specialists/dr_weber", "specialist-profile"),
    ("client", "/client/slots", "client-slots"),
    ("specialist", "/specialist/calendar?week=2026-W50", "specialist-calendar"),
    ("specialist", "/specialist/consultations", "specialist-requests"),
    ("specialist", "/specialist/availability", "specialist-availability"),
    ("admin", "/admin", "admin-overview"),
    ("admin", "/admin/users", "admin-users"),
]


def test_readme_screenshots(new_page, clock):
    clock.set(NOW)
    people = build_portal()
    for role, path, name in SHOTS:
        page = new_page(width=1280, height=800)
        log_in(page, people[role].username)
        page.goto(path)
        expect(page.locator("h1")).to_be_visible()
        if name == "specialist-availability":  # the week as a specialist types it, before Save availability
            for day in ("monday", "tuesday", "wednesday", "thursday"):
                page.locator(f"#{day}").fill("09:00-12:00, 13:00-17:00")
            page.locator("#friday").fill("09:00-13:00")
        assert page.locator("main table, main .calendar, main ol, main ul, main form").count() > 0
        shot = Path(SCREENSHOT_DIR) / f"readme-{name}.png"
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=False)
        if TARGET:
            target = ROOT / TARGET
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, target / f"{name}.png")
        page.context.close()
