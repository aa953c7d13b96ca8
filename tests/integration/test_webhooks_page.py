"""The webhooks page: add an endpoint (its secret shown once), refusals next to the field, disable, enable,
delete, and the delivery log a page at a time with a fixed number of queries."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.models import WebhookDelivery, WebhookEndpoint
from tests.factories import make_user
from tests.support.auth import post_login
from tests.support.pages import field_error, flashes
from tests.support.queries import queries_for
from tests.support.slots import berlin_specialist

PAGE = "/profile/webhooks"
EVENTS = ["consultation.requested", "consultation.cancelled"]


@pytest.fixture
def specialist(auth, clock):
    return berlin_specialist(auth, clock, username="dr_pages")


def add(client, url: str, events=EVENTS):
    return client.submit(PAGE, {"url": url, "events": events})


def endpoint_count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(WebhookEndpoint.id)))


def test_the_form_offers_every_event_checked_and_the_profile_links_to_it(client, specialist):
    page = client.get(PAGE).get_data(as_text=True)
    for name in ("requested", "accepted", "rejected", "cancelled", "rescheduled", "expired"):
        assert re.search(
            rf'<input checked id="events-\d" name="events" type="checkbox" value="consultation.{name}">', page
        )
    assert '<label for="url">URL</label>' in page and ">Add webhook<" in page
    assert "You have no webhooks." in page and "No events have been sent yet." in page
    profile = client.get("/profile").get_data(as_text=True)
    assert f'href="{PAGE}"' in profile and '<h2 id="webhooks-title">Webhooks</h2>' in profile


def test_a_new_webhook_shows_its_secret_once(client, db, specialist):
    response = add(client, "http://127.0.0.1:9/hook?team=7")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    secret = re.search(r'<code class="secret-value">(whsec_[A-Za-z0-9+/=]+)</code>', page).group(1)
    assert "Copy its signing secret now" in flashes(page)
    (endpoint,) = db.session.scalars(select(WebhookEndpoint)).all()
    assert (endpoint.user_id, endpoint.url, endpoint.event_list) == (
        specialist.id,
        "http://127.0.0.1:9/hook?team=7",
        EVENTS,
    )
    assert endpoint.secret == secret and endpoint.enabled
    again = client.get(PAGE).get_data(as_text=True)
    assert secret not in again and "whsec_" not in again
    row = re.search(rf'<tr id="webhook-{endpoint.id}">(.*?)</tr>', again, re.S).group(1)
    assert html.escape("http://127.0.0.1:9/hook?team=7") in row and "consultation.cancelled" in row
    assert "Active" in row and "consultation.accepted" not in row


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://10.0.0.8/hook", "private, loopback or link-local"),
        ("http://169.254.169.254/latest/meta-data/", "private, loopback or link-local"),
        ("http://localhost:8080/hook", "private, loopback or link-local"),
        ("http://[::1]/hook", "private, loopback or link-local"),
        ("ftp://example.com/", "starting with https:// or http://"),
        ("https://user:secret@8.8.8.8/", "user name and password"),
        ("https://no-such-host.invalid/hook", "cannot be resolved"),
        ("", "Enter the address"),
    ],
)
def test_refused_addresses_are_told_next_to_the_field(app, client, db, specialist, monkeypatch, url, message):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    response = add(client, url)
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), "url")
    assert endpoint_count(db) == 0


def test_no_event_or_an_unknown_one_is_refused(client, db, specialist):
    for events in ([], ["consultation.requested", "slot.stolen"]):
        response = add(client, "http://127.0.0.1:9/hook", events)
        assert response.status_code == 422
        assert "Choose at least one event." in field_error(response.get_data(as_text=True), "events")
    assert endpoint_count(db) == 0


def test_disable_enable_and_delete(client, db, specialist):
    add(client, "http://127.0.0.1:9/hook")
    endpoint_id = db.session.scalar(select(WebhookEndpoint.id))
    response = client.submit(f"{PAGE}/{endpoint_id}/disable", {}, from_url=PAGE)
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    page = client.get(PAGE).get_data(as_text=True)
    assert "is disabled" in flashes(page) and "Disabled" in page and "by you" in page and ">Enable<" in page
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, "owner")
    endpoint.failures = 7
    db.session.commit()
    client.submit(f"{PAGE}/{endpoint_id}/enable", {}, from_url=PAGE)
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert (endpoint.enabled, endpoint.failures) == (True, 0)
    client.submit(f"{PAGE}/{endpoint_id}/delete", {}, from_url=PAGE)
    assert endpoint_count(db) == 0
    assert "is deleted" in flashes(client.get(PAGE).get_data(as_text=True))


def test_at_most_ten_webhooks(client, db, specialist):
    for n in range(10):
        add(client, f"http://127.0.0.1:9/hook{n}")
    response = add(client, "http://127.0.0.1:9/eleventh")
    assert response.status_code == 422 and "at most 10" in field_error(response.get_data(as_text=True), "url")
    assert endpoint_count(db) == 10


def deliveries_for(db, endpoint_id: int, count: int, start) -> None:
    for n in range(count):
        db.session.add(
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event="consultation.requested",
                message_id=f"msg_{endpoint_id}_{n}",
                payload="{}",
                state="queued" if n % 2 else "sent",
                attempts=n % 4,
                status_code=500 if n % 2 else 200,
                next_attempt_at=start + timedelta(minutes=5) if n % 2 else None,
                created_at=start - timedelta(minutes=n),
            )
        )
    db.session.commit()


def test_the_delivery_log_shows_code_attempts_and_next_try_a_page_at_a_time(
    client, db, specialist, clock, count_queries
):
    add(client, "http://127.0.0.1:9/hook")
    endpoint_id = db.session.scalar(select(WebhookEndpoint.id))
    other = make_user("specialist")
    db.session.add(WebhookEndpoint(user_id=other.id, url="http://127.0.0.1:9/other", events="x", secret="whsec_AA"))
    db.session.commit()
    other_id = db.session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.user_id == other.id))
    deliveries_for(db, other_id, 3, clock())
    deliveries_for(db, endpoint_id, 3, clock())
    small, page = queries_for(client, count_queries, PAGE)
    assert page.count('<tr id="delivery-') == 3 and f"msg_{other_id}_" not in page
    row = re.search(r'<tr id="delivery-\d+">(?:(?!</tr>).)*msg_\d+_1<(.*?)</tr>', page, re.S).group(0)
    assert re.search(r'class="status-code">500<', row) and re.search(r'class="attempts">1<', row)
    assert '<time datetime="2026-03-10T08:05+01:00"' in row and "queued" in row
    db.session.query(WebhookDelivery).filter(WebhookDelivery.endpoint_id == endpoint_id).delete()
    deliveries_for(db, endpoint_id, 45, clock())
    large, page = queries_for(client, count_queries, PAGE)
    assert large == small, (small, large)
    assert page.count('<tr id="delivery-') == 20 and 'rel="next"' in page
    following = re.search(r'href="([^"]+)" rel="next"', page).group(1)
    second = client.get(html.unescape(following)).get_data(as_text=True)
    assert second.count('<tr id="delivery-') == 20 and 'rel="prev"' in second
    assert set(re.findall(r"msg_\d+_\d+", page)).isdisjoint(re.findall(r"msg_\d+_\d+", second))


def test_an_admins_page_in_russian(client, db, specialist):
    admin = make_user("admin", locale="ru")
    client.submit("/logout", {}, from_url="/profile")
    post_login(client, admin.username)
    page = client.get(PAGE).get_data(as_text=True)
    assert '<html lang="ru"' in page and "Добавить вебхук" in page and "любую консультацию" in page
