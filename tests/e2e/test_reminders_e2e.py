"""In Chromium: the profile's checkbox Email me reminders, on by default, turned off and on again, in English and
Russian, desktop and phone (screenshots test-artifacts/screenshots/reminders-profile-*.png)."""

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import User
from tests.factories import make_user
from tests.support.browser import LAYOUT_IDS, LAYOUTS, log_in

pytestmark = pytest.mark.e2e

WORDS = {
    "en": ("Email me reminders", "Save profile", "Your profile is saved."),
    "ru": ("Присылать мне напоминания", "Сохранить профиль", "Профиль сохранён."),
}


def reminders_of(user_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(User, user_id).reminders_enabled


@pytest.mark.parametrize(("lang", "locale", "width"), LAYOUTS, ids=LAYOUT_IDS)
def test_turning_reminders_off_and_on_on_the_profile(new_page, screenshot, lang, locale, width):
    label, save, saved = WORDS[lang]
    user = make_user("specialist", username=f"sofia_{lang}_{width}", locale=lang, display_name="Sofia Kovalevskaya")
    page = new_page(locale=locale, width=width, height=900)
    log_in(page, user.username)
    page.goto("/profile")
    checkbox = page.get_by_label(label)
    expect(checkbox).to_be_checked()
    screenshot(page, f"reminders-profile-{lang}-{width}")
    checkbox.uncheck()
    with page.expect_navigation():
        page.get_by_role("button", name=save).click()
    expect(page.get_by_text(saved)).to_be_visible()
    expect(page.get_by_label(label)).not_to_be_checked()
    assert reminders_of(user.id) is False
    page.get_by_label(label).press("Space")  # by keyboard, too
    with page.expect_navigation():
        page.get_by_role("button", name=save).click()
    expect(page.get_by_label(label)).to_be_checked()
    assert reminders_of(user.id) is True
