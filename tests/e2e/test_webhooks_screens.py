"""The webhooks page in Chromium, English and Russian, desktop and phone, with screenshots
(test-artifacts/screenshots/webhooks-*.png): a webhook is added by keyboard and its secret shown once, the lists
fit the screen, every control is labelled."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.clock import utcnow
from portal.models import WebhookDelivery, WebhookEndpoint
from tests.factories import make_user
from tests.support.browser import LAYOUT_IDS, LAYOUTS, all_labelled, fits_the_screen, log_in

pytestmark = pytest.mark.e2e

WORDS = {
    "en": ("Webhooks", "Add webhook", "Signing secret of the new webhook:", "Disabled", "Next try"),
    "ru": ("Вебхуки", "Добавить вебхук", "Секрет подписи нового вебхука:", "Отключён", "Следующая попытка"),
}


def history(db, user) -> None:
    """A webhook that works, one disabled after failures, and deliveries in every state."""
    now = utcnow()
    working = WebhookEndpoint(
        user_id=user.id,
        url="https://crm.example.org/hooks/consultations?source=portal",
        events="consultation.requested consultation.accepted consultation.cancelled",
        secret="whsec_AAAA",
        failures=2,
        created_at=now - timedelta(days=3),
    )
    broken = WebhookEndpoint(
        user_id=user.id,
        url="https://calendar-sync.example.net/webhook",
        events="consultation.accepted consultation.rescheduled",
        secret="whsec_BBBB",
        failures=20,
        created_at=now - timedelta(days=9),
        disabled_at=now - timedelta(days=1),
        disabled_reason="failures",
    )
    db.session.add_all([working, broken])
    db.session.flush()
    rows = [
        (working, "consultation.requested", "sent", 1, 200, None, None),
        (working, "consultation.accepted", "queued", 2, 503, "HTTP 503", now + timedelta(minutes=5)),
        (working, "consultation.cancelled", "sent", 3, 204, None, None),
        (broken, "consultation.accepted", "failed", 8, None, "ConnectTimeout: timed out", None),
    ]
    for n, (endpoint, event, state, attempts, code, error, next_try) in enumerate(rows):
        db.session.add(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event=event,
                message_id=f"msg_{'0123456789abcdef' * 2}"[: 20 + n],
                payload="{}",
                state=state,
                attempts=attempts,
                status_code=code,
                last_error=error,
                next_attempt_at=next_try,
                created_at=now - timedelta(hours=n),
            )
        )
    db.session.commit()


@pytest.mark.parametrize(("lang", "locale", "width"), LAYOUTS, ids=LAYOUT_IDS)
def test_webhooks_page(new_page, screenshot, db, lang, locale, width):
    title, add, secret_words, disabled, next_try = WORDS[lang]
    user = make_user("specialist", username=f"hooks_{lang}_{width}", locale=lang, timezone="Europe/Berlin")
    history(db, user)
    page = new_page(locale=locale, width=width, height=900)
    log_in(page, user.username)
    page.goto("/profile")
    page.locator("a[href='/profile/webhooks']").click()
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("#endpoints-title ~ .table-wrap")).to_contain_text(disabled)
    expect(page.locator(".deliveries-table thead")).to_contain_text(next_try)
    fits_the_screen(page)
    all_labelled(page)
    whole = screenshot(page, f"webhooks-{lang}-{width}")
    for part in ("endpoints", "deliveries"):
        section = page.locator(f"section[aria-labelledby={part}-title]")
        section.screenshot(path=str(whole.with_name(f"webhooks-{part}-{lang}-{width}.png")))
        box, card = section.locator("table").bounding_box(), section.bounding_box()
        assert box["x"] + box["width"] <= card["x"] + card["width"], f"the {part} table is wider than its card"

    page.locator("#url").fill("http://127.0.0.1:9/hook")
    page.locator("input[value='consultation.expired']").uncheck()
    page.get_by_role("button", name=add).focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".new-secret")).to_contain_text(secret_words)
    shown = page.locator(".secret-value").inner_text()
    assert shown.startswith("whsec_")
    db.session.expire_all()
    made = db.session.query(WebhookEndpoint).filter_by(user_id=user.id, url="http://127.0.0.1:9/hook").one()
    assert made.secret == shown and "consultation.expired" not in made.event_list
    fits_the_screen(page)
    all_labelled(page)
    screenshot(page, f"webhooks-added-{lang}-{width}")
    page.goto("/profile/webhooks")  # not a reload: that would send the form again
    expect(page.locator(".new-secret")).to_have_count(0)
    expect(page.locator("tr", has_text="http://127.0.0.1:9/hook")).to_have_count(1)
