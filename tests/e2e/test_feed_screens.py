"""The profile's Calendar feed section in Chromium, English and Russian, desktop and phone, with screenshots
(test-artifacts/screenshots/feed-*.png): the address fits the screen, and Reset feed link works by keyboard."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.factories import make_user
from tests.support.browser import LAYOUT_IDS, LAYOUTS, all_labelled, fits_the_screen, log_in

pytestmark = pytest.mark.e2e

WORDS = {
    "en": ("Calendar feed", "Reset feed link", "Your feed has a new link."),
    "ru": ("Подписка на календарь", "Сбросить ссылку", "У календаря новая ссылка."),
}


@pytest.mark.parametrize(("lang", "locale", "width"), LAYOUTS, ids=LAYOUT_IDS)
def test_feed_section(new_page, screenshot, db, live_server, lang, locale, width):
    title, button, done = WORDS[lang]
    user = make_user("specialist", username=f"feed_{lang}_{width}", locale=lang, display_name="Anna Karenina")
    page = new_page(locale=locale, width=width, height=800)
    log_in(page, user.username)
    page.goto("/profile")
    section = page.locator("section[aria-labelledby=feed-title]")
    expect(section.locator("h2")).to_have_text(title)
    old = page.locator("#feed-url").input_value()
    assert old == f"http://portal.test/feeds/{user.feed_token}.ics"
    assert page.locator("#feed-webcal").input_value() == old.replace("http://", "webcal://")
    fits_the_screen(page)
    all_labelled(page)
    field, reset = page.locator("#feed-url").bounding_box(), page.get_by_role("button", name=button).bounding_box()
    assert reset["x"] + reset["width"] <= field["x"] + field["width"], "the button sticks out of the card's column"
    whole = screenshot(page, f"feed-profile-{lang}-{width}")
    section.screenshot(path=str(whole.with_name(f"feed-section-{lang}-{width}.png")))
    assert (
        page.request.get(live_server.url + urlsplit(old).path).headers["content-type"] == "text/calendar; charset=utf-8"
    )

    page.get_by_role("button", name=button).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".alert-success")).to_contain_text(done)
    new = page.locator("#feed-url").input_value()
    assert new != old
    fits_the_screen(page)
    all_labelled(page)
    screenshot(page, f"feed-profile-reset-{lang}-{width}")
    assert page.request.get(live_server.url + urlsplit(old).path).status == 404
    assert page.request.get(live_server.url + urlsplit(new).path).status == 200
