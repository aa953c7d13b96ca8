"""In Chromium: an admin lands on the overview, reads a chart's figures and downloads the export with the keyboard
alone and JavaScript off; the overview with its figures opened passes axe in both languages."""

import csv
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import text

from portal.extensions import db
from tests.factories import make_user
from tests.support.activity import Activity, generate
from tests.support.browser import log_in

pytestmark = pytest.mark.e2e

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 11, 10, 0, tzinfo=BERLIN)


@pytest.fixture
def portal(db, clock):
    clock.set(NOW)
    generate(Activity(NOW, BERLIN, empty=(6,), seed=11))
    return make_user("admin", username="root", timezone="Europe/Berlin", created_at=NOW)


def press_tab_until(page, selector: str, limit: int = 60) -> None:
    """Tab until the focused element matches `selector`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never took the focus")


def test_the_export_and_the_figures_by_keyboard_without_javascript(new_page, portal):
    page = new_page(javascript=False)
    log_in(page, "root")
    assert page.url.endswith("/admin")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.locator("svg.chart[role=img]")).to_have_count(4)

    # The figures of a chart: its disclosure opened with the keyboard.
    table = page.locator(".chart-requests table")
    expect(table).to_be_hidden()
    press_tab_until(page, ".chart-requests summary")
    page.keyboard.press("Enter")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(12)

    # The export: two dates typed, then Enter on the button; the file comes as a download.
    press_tab_until(page, "#from")
    page.keyboard.type("10012026")
    press_tab_until(page, "#to")
    page.keyboard.type("10312026")
    press_tab_until(page, "main button[type=submit]")
    expect(page.locator(":focus")).to_have_text("Export CSV")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename == "consultations-2026-10-01-to-2026-10-31.csv"
    with open(download.value.path(), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    requested = db.session.scalar(
        text(
            "SELECT count(*) FROM consultations WHERE (created_at AT TIME ZONE 'Europe/Berlin')::date "
            "BETWEEN '2026-10-01' AND '2026-10-31'"
        )
    )
    assert rows[0][:3] == ["id", "status", "slot_start"] and len(rows) == requested + 1 and requested > 0

    # Dates the wrong way round: the overview again, the error next to "To", nothing downloaded.
    press_tab_until(page, "#from")
    page.keyboard.type("12012026")
    press_tab_until(page, "main button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#to-error")).to_have_text("“To” cannot be before “From”.")
    expect(page.locator("#to")).to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_overview_with_its_figures_open_passes_axe(new_page, portal, lang):
    portal.locale = lang
    db.session.commit()
    page = new_page(locale="ru-RU" if lang == "ru" else "en-US")
    log_in(page, "root")
    for summary in page.locator("summary").all():
        summary.click()
    expect(page.locator("table.figures-table")).to_have_count(4)
    assert page.locator("html").get_attribute("lang") == lang
    violations = Axe().run(page).response["violations"]
    assert [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")] == []
    page.goto("/admin/export/consultations.csv?from=2026-12-01&to=nonsense")
    violations = Axe().run(page).response["violations"]
    assert [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")] == []
