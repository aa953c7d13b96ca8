"""The forms of a consultation's life fed hostile input by Hypothesis (a client's new time, a specialist's move and
cancellation): never a 5xx; a refusal writes nothing at all; an acceptance does exactly what was asked (and is
undone before the next example)."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text, update

from portal.extensions import db
from portal.models import Consultation, Slot
from tests.factories import make_consultation, make_slot, make_user
from tests.support import fuzz
from tests.support.fuzz import FUZZ, Poster, button, cleaned, form, ident, pick, quoted

NOW = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
WORDS = st.text(st.characters(categories=["L", "N", "Zs", "P", "So", "Mn"]), max_size=40)
BOOKED_AT = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
ASKED_AT = datetime(2026, 12, 10, 11, 0, tzinfo=UTC)


@pytest.fixture
def scene(new_client, clock):
    """A specialist with an accepted consultation, a pending request and two free slots; another specialist's
    accepted consultation and free slot."""
    clock.set(NOW)
    doc = make_user("specialist", username="doc", timezone="Europe/Berlin")
    peer = make_user("specialist", username="peer", timezone="Europe/Berlin")
    cli, other = make_user("client", username="cli"), make_user("client", username="other")
    booked_slot = make_slot(doc, starts_at=BOOKED_AT)
    asked_slot = make_slot(doc, starts_at=ASKED_AT)
    free = make_slot(doc, starts_at=datetime(2026, 12, 11, 9, 0, tzinfo=UTC))
    later = make_slot(doc, starts_at=datetime(2026, 12, 12, 9, 0, tzinfo=UTC))
    elsewhere = make_slot(peer, starts_at=datetime(2026, 12, 11, 12, 0, tzinfo=UTC))
    peer_free = make_slot(peer, starts_at=datetime(2026, 12, 12, 12, 0, tzinfo=UTC))
    booked = make_consultation(booked_slot, cli, "accepted")
    asked = make_consultation(asked_slot, cli)
    foreign = make_consultation(elsewhere, other, "accepted")
    scene = SimpleNamespace(
        booked=booked.id,
        asked=asked.id,
        foreign=foreign.id,
        booked_slot=booked_slot.id,
        asked_slot=asked_slot.id,
        free=free.id,
        later=later.id,
        elsewhere=elsewhere.id,
        peer_free=peer_free.id,
        last_slot=peer_free.id,
    )
    scene.specialist = Poster(new_client(doc), "/specialist/consultations")
    scene.client = Poster(new_client(cli), "/client/consultations")
    return scene


def restore(scene) -> None:
    """Undo an accepted example: the fixture's consultations and slots as they were, nothing added."""
    db.session.execute(text("DELETE FROM consultations WHERE id > :id"), {"id": scene.foreign})
    db.session.execute(text("DELETE FROM slots WHERE id > :id"), {"id": scene.last_slot})
    db.session.execute(update(Slot).where(Slot.id <= scene.last_slot).values(deleted_at=None))
    reset = dict(accepted_at=None, rejected_at=None, cancelled_at=None, reject_reason=None, cancel_comment=None)
    for consultation_id, slot_id, status in (
        (scene.booked, scene.booked_slot, "accepted"),
        (scene.asked, scene.asked_slot, "pending"),
    ):
        db.session.execute(
            update(Consultation)
            .where(Consultation.id == consultation_id)
            .values(slot_id=slot_id, status=status, cancel_reason=None, **reset)
        )
    db.session.commit()


def time_choice(scene):
    """Mostly a time the form offers; else another specialist's, the one already asked for, or anything at all."""
    offered = pick(str(scene.free), str(scene.later))
    odd = pick(str(scene.elsewhere), str(scene.peer_free), str(scene.asked_slot), str(scene.booked_slot))
    return st.one_of(offered, offered, offered, odd, fuzz.hostile)


@FUZZ
@given(which=st.data())
def test_reschedule(scene, tally, which):
    consultation_id = which.draw(ident(scene.booked, scene.asked, scene.foreign))
    data = which.draw(form({"slot_id": time_choice(scene)}))
    body = button(scene.client, f"/client/consultations/{quoted(consultation_id)}/reschedule", data, tally)
    if body:
        chosen = int(cleaned(body, "slot_id"))
        assert chosen in (scene.free, scene.later, scene.asked_slot)
        db.session.expire_all()
        if str(consultation_id) == str(scene.asked):
            assert db.session.get(Consultation, scene.asked).slot_id == chosen
        else:
            made = db.session.scalars(
                text("SELECT id FROM consultations WHERE rescheduled_from_id = :id"), {"id": scene.booked}
            ).one()
            made = db.session.get(Consultation, made)
            assert (made.slot_id, made.status) == (chosen, "pending")
            assert db.session.get(Consultation, scene.booked).status == "accepted"
        restore(scene)


@FUZZ
@given(which=st.data())
def test_move(scene, tally, which):
    consultation_id = which.draw(ident(scene.booked, scene.asked, scene.foreign))
    data = which.draw(form({"slot_id": time_choice(scene)}))
    body = button(scene.specialist, f"/specialist/consultations/{quoted(consultation_id)}/move", data, tally)
    if body:
        chosen = int(cleaned(body, "slot_id"))
        db.session.expire_all()
        moved = db.session.get(Consultation, scene.booked)
        assert (moved.slot_id, moved.status) == (chosen, "accepted")
        assert chosen in (scene.free, scene.later, scene.asked_slot)
        if chosen == scene.asked_slot:  # the client's own request there gave way
            assert db.session.get(Consultation, scene.asked).status == "rejected"
        restore(scene)


@FUZZ
@given(which=st.data())
def test_cancel_by_specialist(scene, tally, which):
    consultation_id = which.draw(ident(scene.booked, scene.asked, scene.foreign))
    data = which.draw(form({"reason": WORDS, "remove_slot": pick("y", "", "on", "false")}))
    body = button(scene.specialist, f"/specialist/consultations/{quoted(consultation_id)}/cancel", data, tally)
    if body:
        db.session.expire_all()
        cancelled = db.session.get(Consultation, scene.booked)
        assert cancelled.status == "cancelled_by_specialist"
        assert cancelled.cancel_comment == cleaned(body, "reason")
        restore(scene)
