"""The webhooks page fed hostile input by Hypothesis: the form that adds an endpoint, and its buttons with any
id. Never a 5xx; a refusal shows why and writes nothing at all; an accepted endpoint holds exactly the cleaned
URL, only known events, and an address the check lets through (and is undone before the next example)."""

import re
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from portal.extensions import db
from portal.models import WEBHOOK_EVENTS, WebhookEndpoint
from portal.webhooks.address import AddressRefused, check_url
from tests.factories import make_user
from tests.support import fuzz
from tests.support.fuzz import FUZZ, Poster, button, cleaned, form, hostile, ident, pick, received

PAGE = "/profile/webhooks"
HOSTS = pick(
    "127.0.0.1:9",
    "localhost",
    "[::1]:8080",
    "10.0.0.1",
    "169.254.169.254",
    "0x7f.1",
    "2130706433",
    "user:pw@127.0.0.1",
    "no-such-host.invalid",
    "127.0.0.1:99999",
    "127.0.0.1:0",
    "[fe80::1%25eth0]",
    "",
)
URL = st.one_of(
    pick("http://127.0.0.1:9/hook", "https://127.0.0.1/a?b=c#d", "http://10.1.2.3/", "javascript:alert(1)"),
    st.builds(
        lambda scheme, host, path: f"{scheme}{host}{path}",
        pick("http://", "https://", "HTTPS://", "ftp://", "file://", "//", "http:/", ""),
        st.one_of(HOSTS, st.text(max_size=20)),
        st.one_of(pick("/hook", "/", "", "/a b", "/%00", "?q=1"), st.text(max_size=20)),
    ),
    st.builds(lambda n: "http://127.0.0.1:9/" + "a" * n, st.integers(1975, 2010)),
)
EVENTS = st.lists(
    st.one_of(st.sampled_from(WEBHOOK_EVENTS), pick("consultation.booked", "", "CONSULTATION.REQUESTED")), max_size=7
)


def webhook_fingerprint() -> tuple:
    """The fuzzing proofs' fingerprint of every table, and of the webhook tables too."""
    rows = db.session.execute(
        text(
            "SELECT (SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x.id), '')) FROM webhook_endpoints x),"
            " (SELECT count(*) FROM webhook_deliveries)"
        )
    ).one()
    db.session.remove()
    return fuzz.fingerprint(), tuple(rows)


@pytest.fixture
def scene(new_client):
    specialist = make_user("specialist", username="hooked")
    other = make_user("specialist", username="unhooked")
    theirs = WebhookEndpoint(
        user_id=other.id, url="http://127.0.0.1:9/theirs", events="consultation.requested", secret="whsec_AA"
    )
    mine = WebhookEndpoint(
        user_id=specialist.id, url="http://127.0.0.1:9/mine", events="consultation.requested", secret="whsec_BB"
    )
    db.session.add_all([theirs, mine])
    db.session.commit()
    return SimpleNamespace(
        specialist=specialist.id, mine=mine.id, theirs=theirs.id, poster=Poster(new_client(specialist), PAGE)
    )


def restore(scene) -> None:
    """Back to the scene's own endpoint only, enabled, with its original id."""
    db.session.execute(text("DELETE FROM webhook_endpoints WHERE user_id = :u"), {"u": scene.specialist})
    db.session.execute(
        text(
            "INSERT INTO webhook_endpoints (id, user_id, url, events, secret, failures, created_at)"
            " VALUES (:id, :u, 'http://127.0.0.1:9/mine', 'consultation.requested', 'whsec_BB', 0, now())"
        ),
        {"id": scene.mine, "u": scene.specialist},
    )
    db.session.commit()


@FUZZ
@given(data=form({"url": URL, "events": EVENTS, "submit": pick("Add webhook")}))
def test_add_webhook(scene, tally, data):
    before = webhook_fingerprint()
    response, body = scene.poster.post(PAGE, data)
    page = response.get_data(as_text=True)
    if response.status_code != 200:
        tally[f"refused {response.status_code}"] += 1
        assert response.status_code in (400, 422), response.status_code
        if response.status_code == 422:
            assert 'class="field-error"' in page
        assert webhook_fingerprint() == before
        return
    tally["accepted"] += 1
    secret = re.search(r'<code class="secret-value">(whsec_[A-Za-z0-9+/=]+)</code>', page).group(1)
    made = db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.user_id == scene.specialist, WebhookEndpoint.id != scene.mine)
    ).one()
    url = cleaned(body, "url")
    assert (made.url, made.secret) == (url, secret)
    chosen = set(received(body).getlist("events"))
    assert made.event_list and set(made.event_list) == chosen <= set(WEBHOOK_EVENTS)
    try:
        check_url(made.url, allow_private=True)
    except AddressRefused:
        pytest.fail(f"saved an address the check refuses: {made.url!r}")
    restore(scene)


@FUZZ
@given(action=pick("disable", "enable", "delete"), which=st.data(), extra=st.dictionaries(hostile, hostile, max_size=2))
def test_webhook_buttons(scene, tally, action, which, extra):
    endpoint_id = which.draw(ident(scene.mine, scene.theirs, 2_000_000_000))
    theirs_before = db.session.get(WebhookEndpoint, scene.theirs).url
    db.session.remove()
    url = f"{PAGE}/{fuzz.quoted(endpoint_id)}/{action}"
    before = webhook_fingerprint()
    body = button(scene.poster, url, {k: v for k, v in extra.items() if k != "csrf_token"}, tally)
    if body is None:
        assert webhook_fingerprint() == before
    else:
        assert endpoint_id == scene.mine
        restore(scene)
    assert db.session.get(WebhookEndpoint, scene.theirs).url == theirs_before
    db.session.remove()
