"""The public pages fed hostile input by Hypothesis: the booking form, the directory's filters and cursors, a
profile's username and window. Never a 5xx; a refusal writes nothing at all; a request saves exactly the
cleaned message (and is undone before the next example)."""

import re
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from portal.extensions import db
from portal.models import Consultation
from tests.factories import make_consultation, make_slot, make_user
from tests.support.fuzz import (
    FUZZ,
    Poster,
    cleaned,
    fingerprint,
    form,
    get_never_writes,
    hostile,
    ident,
    pick,
    quoted,
    shows_form_error,
)

NOW = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
WORDS = st.text(st.characters(categories=["L", "N", "Zs", "P", "So", "Mn"]), max_size=40)
# Short words, lines broken the way browsers send them, and lengths around the limit of 500.
MESSAGE = st.one_of(
    WORDS,
    st.builds("\r\n".join, st.lists(WORDS, min_size=2, max_size=4)),
    st.builds(lambda c, n: c * n, pick("a", "я", "😀", " "), st.integers(490, 510)),
)


@pytest.fixture
def scene(new_client, clock):
    """Specialists active and blocked, two clients; a free slot, one the client asked for already, one taken,
    one of the blocked specialist, one deleted."""
    clock.set(NOW)
    doc = make_user("specialist", username="doc", display_name="Doc Brown", timezone="Europe/Berlin")
    peer = make_user("specialist", username="peer", specialty="Lawyer")
    away = make_user("specialist", username="away", blocked=True)
    cli, other = make_user("client", username="cli"), make_user("client", username="other")
    free = make_slot(doc, starts_at=datetime(2026, 12, 10, 9, 0, tzinfo=UTC), note="Online")
    asked = make_slot(doc, starts_at=datetime(2026, 12, 11, 9, 0, tzinfo=UTC))
    taken = make_slot(peer, starts_at=datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    blocked = make_slot(away, starts_at=datetime(2026, 12, 10, 15, 0, tzinfo=UTC))
    gone = make_slot(doc, starts_at=datetime(2026, 12, 12, 9, 0, tzinfo=UTC), commit=False)
    gone.deleted_at = NOW
    make_consultation(asked, cli)
    last = make_consultation(taken, other, status="accepted")
    scene = SimpleNamespace(
        free=free.id, asked=asked.id, taken=taken.id, blocked=blocked.id, gone=gone.id, last=last.id, cli=cli.id
    )
    scene.client = Poster(new_client(cli), "/client/slots")
    scene.anonymous = Poster(new_client(), "/login")
    return scene


def restore(scene) -> None:
    """Undo an accepted example: the request it made, and its email."""
    db.session.execute(text("DELETE FROM consultations WHERE id > :id"), {"id": scene.last})
    db.session.execute(text("DELETE FROM outbox_emails"))
    db.session.commit()


@FUZZ
@given(data=form({"message": MESSAGE, "submit": pick("Request consultation")}), which=st.data())
def test_book(scene, tally, data, which):
    slot_id = which.draw(ident(scene.free, scene.asked, scene.taken, scene.blocked, scene.gone))
    before = fingerprint()
    response, body = scene.client.post(f"/book/{quoted(slot_id)}", data)
    if response.status_code != 303:
        tally[f"refused {response.status_code}"] += 1
        assert response.status_code in (400, 404, 409, 422), response.status_code
        html = response.get_data(as_text=True)
        if response.status_code == 422:
            assert shows_form_error(response)
        if response.status_code == 409:
            assert re.search(r'<div class="alert alert-error" role="alert">\s*<p>[^<]+</p>', html)
        assert fingerprint() == before
        return
    tally["accepted"] += 1
    assert response.location == "/client/consultations"
    made = db.session.scalars(select(Consultation).where(Consultation.id > scene.last)).one()
    assert (made.slot_id, made.client_id, made.status) == (scene.free, scene.cli, "pending")
    assert made.message == ((cleaned(body, "message") or "").replace("\r\n", "\n") or None)
    assert len(made.message or "") <= 500
    scene.client.flashes()
    restore(scene)


TEXT_CURSOR = st.builds(lambda key, n: f"{key}.{n}", st.text("ABCabc012-_", max_size=12), st.integers(-1, 2**32))
CURSOR = st.one_of(
    pick("RG9jIGJyb3du.1", "AA.1", "1796025600000000-2", ".5", "=.1", "YW5uYQ==.2"), TEXT_CURSOR, hostile
)
FILTER = form(
    {
        "q": pick("doc", "DO", "%", "_", "\\", "peer", "Brown"),
        "specialty": pick("", "Psychologist", "psychologist", "Lawyer", "Astrologer"),
        "after": CURSOR,
        "before": CURSOR,
    }
)


@FUZZ
@given(params=FILTER)
def test_directory_filters(scene, tally, params):
    response = get_never_writes(scene.anonymous, "/specialists", params, tally)
    html = response.get_data(as_text=True)
    assert "@away" not in html  # a blocked specialist never shows


DAY = st.dates(date(1999, 12, 1), date(2200, 2, 1)).map(date.isoformat)


@FUZZ
@given(
    username=st.one_of(pick("doc", "DOC", "peer", "away", "cli", "no.such-user"), hostile),
    params=form({"from": st.one_of(DAY, pick("2026-12-09", "2026-02-30", "today"))}),
)
def test_profile(scene, tally, username, params):
    before = fingerprint()
    response = scene.anonymous.get(f"/specialists/{quoted(username)}", params)
    tally[str(response.status_code)] += 1
    assert response.status_code in (200, 404, 308), response.status_code
    if response.status_code == 200:
        assert str(username).lower() in ("doc", "peer")
    assert fingerprint() == before
