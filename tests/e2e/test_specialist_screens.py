"""Screenshots of the specialist pages in both languages, desktop and phone, with checks of what shows."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.factories import make_consultation, make_slot, make_user
from tests.support.browser import fits_the_screen, log_in, no_axe_violations

pytestmark = pytest.mark.e2e

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 9, 11, 20, tzinfo=BERLIN)  # Wednesday of 2026-W50


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


def busy_week(specialist, locale: str) -> None:
    """A realistic week: past and coming slots, free, with requests, booked, short and long, early and late."""
    names = ["alina", "boris", "chen", "dara", "emil", "farah", "gleb"]
    people = [
        make_user("client", username=f"{n}_{locale}", display_name=n.title() + " " + ["Ivanova", "Smith"][i % 2])
        for i, n in enumerate(names)
    ]
    plan = [
        # (start, minutes, clients pending, client accepted)
        (at(7, 9), 45, 0, 0),
        (at(7, 10), 45, 0, 1),
        (at(8, 14), 60, 0, 2),
        (at(9, 9), 50, 0, 3),
        (at(9, 14), 45, 2, None),
        (at(9, 15), 15, 0, None),
        (at(10, 6, 30), 60, 0, None),
        (at(10, 10), 180, 1, None),
        (at(11, 9), 45, 0, 4),
        (at(11, 10), 45, 3, None),
        (at(11, 11), 30, 0, None),
        (at(12, 11), 90, 0, None),
        (at(13, 21), 90, 1, None),
        # Quarter-hour and half-hour slots: one grid row, two rows.
        (at(10, 15), 15, 2, None),
        (at(10, 15, 15), 15, 0, 5),
        (at(12, 9), 20, 0, None),
        (at(12, 9, 30), 30, 1, None),
    ]
    for start, minutes, pending, accepted in plan:
        slot = make_slot(specialist, starts_at=start, minutes=minutes, note="Online" if minutes < 60 else None)
        for n in range(pending):
            make_consultation(slot, people[(n + 4) % len(people)], created_at=NOW - timedelta(hours=n + 1))
        if accepted is not None:
            make_consultation(slot, people[accepted], status="accepted", created_at=NOW - timedelta(days=3))


def inside(inner: dict, outer: dict) -> bool:
    """Whether a bounding box lies within another (half a pixel of rounding allowed)."""
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


def check_short_slots_readable(page) -> None:
    """Every slot of one grid row shows its start and its state in full, inside its box, nothing cut off."""
    short = page.locator("li.slot.compact").all()
    assert len(short) == 4
    for item in short:
        box = item.bounding_box()
        assert box["height"] >= 16, box
        for part in (".slot-time time", ".slot-state"):
            expect(item.locator(part).first).to_be_visible()
            assert inside(item.locator(part).first.bounding_box(), box), (part, item.inner_text())
        cut = item.locator("a").evaluate("a => a.scrollWidth > a.clientWidth || a.scrollHeight > a.clientHeight + 1")
        assert not cut, item.inner_text()


def shoot(page, screenshot, name: str) -> None:
    """Save the screenshot and check the page with axe: no accessibility violations."""
    screenshot(page, name)
    no_axe_violations(page)


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_specialist_screens(new_page, db, clock, screenshot, locale):
    clock.set(NOW)
    words = {
        "en": {
            "free": "free",
            "pending": "2 pending",
            "today": "Today",
            "empty": "You have no slots this week.",
            "week": "7–13 Dec 2026",
            "legend": ["5 free", "10 pending", "6 booked"],
        },
        "ru": {
            "free": "свобод",
            "pending": "2 заявки",
            "today": "Сегодня",
            "empty": "На этой неделе у вас нет слотов.",
            "week": "7–13 дек. 2026 г.",
            "legend": ["5 свободных слотов", "10 заявок", "6 занятых слотов"],
        },
    }[locale]
    specialist = make_user("specialist", username=f"dr_{locale}", timezone="Europe/Berlin", locale=locale)
    busy_week(specialist, locale)
    page = new_page(locale="ru-RU" if locale == "ru" else "en-US")
    log_in(page, specialist.username)

    page.goto("/specialist/calendar?week=2026-W52")
    expect(page.locator(".empty")).to_contain_text(words["empty"])
    shoot(page, screenshot, f"specialist-calendar-empty-{locale}")

    page.goto("/specialist/calendar")
    expect(page.locator("li.slot")).to_have_count(17)
    expect(page.locator(".today-mark")).to_have_text(words["today"])
    expect(page.locator("li.slot.state-pending").first).to_contain_text(words["pending"])
    assert " ".join(page.locator(".week-range").inner_text().replace("\u202f", " ").split()) == words["week"]
    expect(page.locator(".legend li")).to_have_text(words["legend"])
    check_short_slots_readable(page)
    expect(page.locator(".gutter-hours li").first).to_have_text("06:00")
    expect(page.locator(".gutter-hours li").last).to_have_text("22:00")
    shoot(page, screenshot, f"specialist-calendar-busy-{locale}")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator(".hour-gutter")).to_be_hidden()
    fits_the_screen(page)
    shoot(page, screenshot, f"specialist-calendar-phone-{locale}")

    page.goto("/specialist/consultations")
    fits_the_screen(page)
    shoot(page, screenshot, f"specialist-requests-phone-{locale}")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    # Ten requests waiting, under the six slots they are for.
    expect(page.locator("tbody tr.slot-head")).to_have_count(6)
    expect(page.locator("tbody tr:not(.slot-head)")).to_have_count(10)
    shoot(page, screenshot, f"specialist-requests-{locale}")

    # A slot with requests waiting opens them.
    page.goto("/specialist/calendar")
    page.locator("li.slot.state-pending.compact a").first.click()
    expect(page).to_have_url(re.compile(r"/specialist/consultations\?slot=\d+$"))
    expect(page.locator("tbody tr:not(.slot-head)")).to_have_count(2)
    shoot(page, screenshot, f"specialist-slot-requests-{locale}")

    page.goto("/specialist/slots")
    shoot(page, screenshot, f"specialist-slots-{locale}")
    page.goto("/specialist/slots/new")
    page.locator("#date").fill("2026-12-09")
    page.locator("#start_time").fill("10:00")
    page.locator("#end_time").fill("10:30")
    page.locator("#start_time").press("Enter")
    expect(page.locator("#start_time-error")).to_be_visible()
    shoot(page, screenshot, f"specialist-new-slot-error-{locale}")
    page.goto("/specialist/calendar")
    page.locator("li.slot.state-free:not(.is-past) a").first.click()
    page.locator("form.delete-link button").click()
    shoot(page, screenshot, f"specialist-delete-{locale}")
