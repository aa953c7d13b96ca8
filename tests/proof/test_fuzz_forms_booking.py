"""Every specialist and client form fed hostile input by Hypothesis: never a 5xx; a refusal writes nothing at all;
an acceptance saves exactly the cleaned input (and is undone before the next example)."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from portal.extensions import db
from portal.models import Consultation, Slot, User
from tests.factories import make_consultation, make_slot, make_user
from tests.support.fuzz import (
    DATES,
    FUZZ,
    TIMES,
    Poster,
    button,
    cleaned,
    fingerprint,
    form,
    get_never_writes,
    hostile,
    ident,
    pick,
    quoted,
    received,
    refused_cleanly,
)

NOW = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)  # Tuesday, 09:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")
WORDS = st.text(st.characters(categories=["L", "N", "Zs", "P", "So", "Mn"]), max_size=40)
DAY = st.dates(date(2026, 12, 9), date(2027, 6, 30)).map(date.isoformat)


@st.composite
def slot_times(draw):
    """A date, a start and an end 15 minutes to 3 hours later on the same day."""
    start = draw(st.integers(0, 20 * 4)) * 15
    end = start + draw(pick(15, 30, 45, 60, 90, 180))
    as_text = lambda minutes: f"{minutes // 60:02d}:{minutes % 60:02d}"  # noqa: E731
    return {"date": draw(DAY), "start_time": as_text(start), "end_time": as_text(end)}


def parsed(body: str, name: str, formats: list[str]):
    """A date or time field as WTForms reads it: its values joined by spaces, then the first format that fits."""
    joined = " ".join(received(body).getlist(name))
    for fmt in formats:
        try:
            return datetime.strptime(joined, fmt)
        except ValueError:
            continue
    raise AssertionError(f"{name}={joined!r} was accepted but does not parse")


def local(body: str, day: str, clock: str) -> datetime:
    """The instant a date and time field name together, in Berlin."""
    return datetime.combine(
        parsed(body, day, ["%Y-%m-%d"]).date(), parsed(body, clock, ["%H:%M", "%H:%M:%S"]).time(), tzinfo=BERLIN
    )


@pytest.fixture
def scene(new_client, clock):
    """Two specialists and two clients; a slot with a pending request, a free slot, and another's request."""
    clock.set(NOW)
    doc = make_user("specialist", username="doc", timezone="Europe/Berlin")
    peer = make_user("specialist", username="peer", timezone="Europe/Berlin")
    cli, other = make_user("client", username="cli"), make_user("client", username="other")
    asked = make_slot(doc, starts_at=datetime(2026, 12, 10, 9, 0, tzinfo=UTC), note="Online")
    free = make_slot(doc, starts_at=datetime(2026, 12, 11, 9, 0, tzinfo=UTC))
    elsewhere = make_slot(peer, starts_at=datetime(2026, 12, 10, 12, 0, tzinfo=UTC))
    request = make_consultation(asked, cli)
    foreign = make_consultation(elsewhere, other)
    scene = SimpleNamespace(
        asked=asked.id,
        free=free.id,
        elsewhere=elsewhere.id,
        request=request.id,
        foreign=foreign.id,
        doc=doc.id,
        cli=cli.id,
    )
    scene.specialist = Poster(new_client(doc), "/specialist/slots")
    scene.client = Poster(new_client(cli), "/client/slots")
    return scene


def restore(scene) -> None:
    """Undo an accepted example: the fixture's slots and request as they were, nothing added."""
    db.session.execute(text("DELETE FROM consultations WHERE id > :id"), {"id": scene.foreign})
    db.session.execute(text("DELETE FROM slots WHERE id > :id"), {"id": scene.elsewhere})
    db.session.execute(
        update(Slot)
        .where(Slot.id == scene.asked)
        .values(
            specialist_id=scene.doc,
            starts_at=datetime(2026, 12, 10, 9, 0, tzinfo=UTC),
            ends_at=datetime(2026, 12, 10, 9, 45, tzinfo=UTC),
            note="Online",
            deleted_at=None,
        )
    )
    db.session.execute(
        update(Consultation)
        .where(Consultation.id == scene.request)
        .values(
            status="pending",
            accepted_at=None,
            rejected_at=None,
            cancelled_at=None,
            reject_reason=None,
            cancel_reason=None,
            cancel_comment=None,
        )
    )
    db.session.commit()


def slot_form(**more):
    """A slot submission with coherent times (before any field is spoilt)."""
    return st.builds(
        lambda times, data: {**data, **{k: times[k] for k in times if k in data and data[k] == "<time>"}},
        slot_times(),
        form(
            {
                "date": st.just("<time>"),
                "start_time": st.just("<time>"),
                "end_time": st.just("<time>"),
                "note": WORDS,
                **more,
            }
        ),
    )


@FUZZ
@given(data=slot_form(repeat_weeks=pick("0", "1", "2", "12", " 3 ")), odd=st.none() | pick(*DATES, *TIMES))
def test_new_slot(scene, tally, data, odd):
    if odd is not None:  # an edge date or time where one is expected
        data["date" if "-" in odd[1:] else "start_time"] = odd
    before = fingerprint()
    response, body = scene.specialist.post("/specialist/slots/new", data)
    if response.status_code != 303:
        tally["refused"] += 1
        return refused_cleanly(response, before, (422, 400))
    tally["accepted"] += 1
    created = db.session.scalars(select(Slot).where(Slot.id > scene.elsewhere).order_by(Slot.starts_at)).all()
    assert len(created) == int(received(body).getlist("repeat_weeks")[0]) + 1
    start, end = local(body, "date", "start_time"), local(body, "date", "end_time")
    for week, slot in enumerate(created):
        assert slot.starts_at == (start.replace(tzinfo=None) + timedelta(weeks=week)).replace(tzinfo=BERLIN)
        assert slot.ends_at - slot.starts_at == end - start
        assert (slot.note, slot.specialist_id) == (cleaned(body, "note") or None, scene.doc)
    scene.specialist.flashes()
    restore(scene)


@FUZZ
@given(data=slot_form(specialist=pick("doc", "peer", "DOC", " peer ")), slot=st.data())
def test_edit_slot(scene, tally, data, slot):
    slot_id = slot.draw(ident(scene.asked, scene.elsewhere))
    before = fingerprint()
    response, body = scene.specialist.post(f"/specialist/slots/{quoted(slot_id)}/edit", data)
    if response.status_code != 303:
        tally["refused"] += 1
        return refused_cleanly(response, before, (422, 404, 400))
    tally["accepted"] += 1
    edited = db.session.get(Slot, scene.asked)
    assert edited.starts_at == local(body, "date", "start_time")
    assert edited.ends_at == local(body, "date", "end_time")
    assert edited.note == (cleaned(body, "note") or None)
    assert db.session.get(User, edited.specialist_id).username == cleaned(body, "specialist").lower()
    scene.specialist.flashes()
    restore(scene)


@FUZZ
@given(extra=form({}), slot=st.data())
def test_delete_slot(scene, tally, extra, slot):
    slot_id = slot.draw(ident(scene.asked, scene.elsewhere))
    if button(scene.specialist, f"/specialist/slots/{quoted(slot_id)}/delete", extra, tally):
        assert db.session.get(Slot, scene.asked).deleted_at == NOW
        assert db.session.get(Consultation, scene.request).status == "cancelled_by_specialist"
        restore(scene)


@FUZZ
@given(extra=form({"next": pick("/specialist/consultations?status=all", "//evil.example")}), which=st.data())
def test_accept(scene, tally, extra, which):
    consultation_id = which.draw(ident(scene.request, scene.foreign))
    if button(scene.specialist, f"/specialist/consultations/{quoted(consultation_id)}/accept", extra, tally):
        assert db.session.get(Consultation, scene.request).status == "accepted"
        restore(scene)


@FUZZ
@given(extra=form({"reason": WORDS}), which=st.data())
def test_reject(scene, tally, extra, which):
    consultation_id = which.draw(ident(scene.request, scene.foreign))
    body = button(scene.specialist, f"/specialist/consultations/{quoted(consultation_id)}/reject", extra, tally)
    if body:
        rejected = db.session.get(Consultation, scene.request)
        assert rejected.status == "rejected"
        assert rejected.reject_reason == (cleaned(body, "reason") or None)
        restore(scene)


CURSOR = st.one_of(pick("1796025600000000-2", "-5_1", "9" * 30 + "-1", "0-0", "1796025600000000_99999999999"), hostile)
FILTER = form(
    {
        "specialist": pick("doc", "DO", "%", "_", "\\", "peer"),
        "specialty": pick("Psych", "психолог", "%_"),
        "date_from": DAY,
        "date_to": DAY,
        "after": CURSOR,
        "before": CURSOR,
    }
)


@FUZZ
@given(params=FILTER)
def test_client_slot_filter(scene, tally, params):
    get_never_writes(scene.client, "/client/slots", params, tally)


@FUZZ
@given(extra=form({"next": pick("/client/slots?specialty=Psych", "//evil.example", "/admin/users")}), which=st.data())
def test_request_slot(scene, tally, extra, which):
    slot_id = which.draw(ident(scene.free, scene.asked, scene.elsewhere))
    if button(scene.client, f"/client/slots/{quoted(slot_id)}/request", extra, tally):
        # The free slot, or peer's slot that another client merely asked for: both can be requested.
        made = db.session.scalars(select(Consultation).where(Consultation.id > scene.foreign)).one()
        assert (made.slot_id, made.client_id, made.status) == (int(slot_id), scene.cli, "pending")
        assert made.slot_id in (scene.free, scene.elsewhere)
        restore(scene)


CANCEL = form(
    {
        "reason": pick("Health", "Personal", "Found_another_specialist", "Other", ""),
        "comment": WORDS,
        "submit": pick("Cancel consultation"),
    }
)


@FUZZ
@given(data=CANCEL, which=st.data())
def test_cancel_consultation(scene, tally, data, which):
    consultation_id = which.draw(ident(scene.request, scene.foreign))
    before = fingerprint()
    response, body = scene.client.post(f"/client/consultations/{quoted(consultation_id)}/cancel", data)
    if response.status_code != 303:
        tally["refused"] += 1
        return refused_cleanly(response, before, (422, 404, 400))
    tally["accepted"] += 1
    assert response.location.endswith("/client/consultations")
    cancelled = db.session.get(Consultation, scene.request)
    reason = received(body).getlist("reason")
    assert cancelled.status == "cancelled"
    assert cancelled.cancel_reason == ((reason[0] or None) if reason else None)
    assert cancelled.cancel_comment == (cleaned(body, "comment") or None)
    scene.client.flashes()
    restore(scene)
