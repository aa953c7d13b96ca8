"""Screenshots of the availability page in both languages, desktop and phone: empty, filled, with errors, and days
off with a slot that holds a request; each page checked with axe."""

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import Slot
from tests.factories import make_consultation, make_user
from tests.support.browser import fits_the_screen, log_in, no_axe_violations
from tests.support.slots import BERLIN

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=BERLIN)  # Monday morning
HOURS = {
    "monday": "09:00-12:00, 13:00-17:00",
    "tuesday": "09:00-12:00, 13:00-17:00",
    "wednesday": "10:00-14:00",
    "thursday": "09:00-12:00, 13:00-17:00",
    "friday": "09:00-13:00",
}
WORDS = {
    "en": {"saved": "Availability saved.", "overlap": "09:00-12:00 and 11:00-13:00 overlap.", "held": "has requests"},
    "ru": {"saved": "Доступность сохранена.", "overlap": "09:00-12:00 и 11:00-13:00 пересекаются.", "held": "заявк"},
}


def shoot(page, screenshot, name: str, phone: bool = False) -> None:
    """A desktop screenshot, then the phone's (390 px, nothing wider than the screen); axe finds no violation."""
    screenshot(page, name)
    no_axe_violations(page)
    page.set_viewport_size({"width": 390, "height": 844})
    fits_the_screen(page)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_availability_screens(new_page, db, clock, screenshot, locale):
    clock.set(NOW)
    words = WORDS[locale]
    specialist = make_user("specialist", username=f"dr_hours_{locale}", timezone="Europe/Berlin", locale=locale)
    page = new_page(locale="ru-RU" if locale == "ru" else "en-US")
    log_in(page, specialist.username)

    page.goto("/specialist/availability")
    expect(page.locator("#session_minutes")).to_have_value("60")
    shoot(page, screenshot, f"availability-empty-{locale}")

    for day, ranges in HOURS.items():
        page.locator(f"#{day}").fill(ranges)
    page.locator("#session_minutes").fill("50")
    page.locator("#break_minutes").fill("10")
    page.locator("#notice_hours").fill("12")
    page.locator("#horizon_days").fill("60")
    page.locator("#cutoff_hours").fill("24")
    page.locator("#save").click()
    expect(page.locator(".alert-success")).to_contain_text(words["saved"])
    expect(page.locator("#monday")).to_have_value("09:00-12:00, 13:00-17:00")
    shoot(page, screenshot, f"availability-filled-{locale}")

    page.locator("#tuesday").fill("09:00-12:00, 11:00-13:00")
    page.locator("#wednesday").fill("10:00")
    page.locator("#session_minutes").fill("5")
    page.locator("#save").click()
    expect(page.locator("#tuesday-error")).to_have_text(words["overlap"])
    expect(page.locator("#wednesday-error")).to_be_visible()
    expect(page.locator("#session_minutes-error")).to_be_visible()
    shoot(page, screenshot, f"availability-errors-{locale}")

    client = make_user("client", username=f"amira_{locale}")
    held = _db.session.scalars(
        select(Slot).where(Slot.specialist_id == specialist.id).order_by(Slot.starts_at).offset(30)
    ).first()
    make_consultation(held, client)
    day = held.starts_at.astimezone(BERLIN).date()
    page.goto("/specialist/availability")
    page.locator("#first_day").fill(day.isoformat())
    page.locator("#last_day").fill((day + timedelta(days=1)).isoformat())
    page.locator("#note").fill("Conference" if locale == "en" else "Конференция")
    page.locator("#add").click()
    expect(page.locator(".days-off > li")).to_have_count(1)
    expect(page.locator(".days-off .alert-warning")).to_contain_text(words["held"])
    page.locator("#days-off").scroll_into_view_if_needed()
    shoot(page, screenshot, f"availability-days-off-{locale}")
