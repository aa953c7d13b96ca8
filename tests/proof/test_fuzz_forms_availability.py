"""The availability and days-off forms fed hostile input by Hypothesis: never a 5xx; a refusal writes nothing at all
(nothing half-saved: neither the rules, the hours nor a slot); an acceptance saves exactly the cleaned input."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from portal.extensions import db
from portal.models import Availability, DayOff, Slot
from portal.services.availability import parse_ranges
from tests.factories import make_consultation, make_slot, make_user
from tests.support import fuzz
from tests.support.fuzz import DATES, FUZZ, TIMES, Poster, button, cleaned, form, ident, pick, quoted, received

NOW = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)  # Tuesday, 09:00 in Berlin
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WORDS = st.text(st.characters(categories=["L", "N", "Zs", "P", "So", "Mn"]), max_size=40)
DAY = st.dates(date(2026, 12, 1), date(2027, 3, 31)).map(date.isoformat)


def clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


BROKEN = (*TIMES, "9-12", "09:00-", "-12:00", "09:00-12:00-13:00", "18:00-24:00", "12:00-09:00", "09:00-09:15")
BROKEN += ("09:00-12:00, 11:00-13:00", "09:00-12:00,,", "9:00-10:00", "09:00—10:00")


@st.composite
def ranges(draw):
    """A weekday's field: empty, a morning range, or a morning and an afternoon range; one day in twenty something
    broken (overlapping, backwards, shorter than a session, an edge time) is added."""
    parts = []
    for low, high in draw(pick((), ((6, 11),), ((6, 11), (13, 20)))):
        start = draw(st.integers(low * 4, high * 4)) * 15
        end = start + draw(pick(60, 120, 180, 240))
        parts.append(f"{clock_text(start)}{draw(pick('-', ' - ', '–'))}{clock_text(end)}")
    if draw(st.integers(0, 19)) == 11:  # not 0: Hypothesis draws the bounds often
        parts.append(draw(pick(*BROKEN)))
    return draw(pick(", ", ",", " ,  ")).join(parts)


def fingerprint() -> dict:
    """fuzz.fingerprint plus the working-hours tables."""
    found = fuzz.fingerprint()
    parts = " UNION ALL ".join(
        f"SELECT '{t}', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x"
        for t in ("availabilities", "working_hours", "days_off")
    )
    found.update({name: (count, digest) for name, count, digest in db.session.execute(text(parts)).all()})
    db.session.remove()
    return found


@pytest.fixture
def scene(new_client, clock):
    """A specialist in Berlin with a free manual slot and a requested one on 2026-12-20, another specialist's
    days off."""
    clock.set(NOW)
    doc = make_user("specialist", username="doc", timezone="Europe/Berlin")
    peer = make_user("specialist", username="peer", timezone="Europe/Berlin")
    cli = make_user("client", username="cli")
    free = make_slot(doc, starts_at=datetime(2026, 12, 20, 9, 0, tzinfo=UTC))
    asked = make_slot(doc, starts_at=datetime(2026, 12, 20, 11, 0, tzinfo=UTC))
    make_consultation(asked, cli)
    theirs = DayOff(specialist_id=peer.id, first_day=date(2026, 12, 24), last_day=date(2026, 12, 26))
    db.session.add(theirs)
    db.session.commit()
    scene = SimpleNamespace(doc=doc.id, free=free.id, asked=asked.id, theirs=theirs.id)
    scene.poster = Poster(new_client(doc), "/specialist/availability")
    return scene


def restore(scene) -> None:
    """Undo an accepted example: no rules, hours, days off or generated slots of the specialist; the free slot live."""
    db.session.execute(text("DELETE FROM slots WHERE id > :id"), {"id": scene.asked})
    db.session.execute(text("DELETE FROM working_hours"))
    db.session.execute(text("DELETE FROM availabilities"))
    db.session.execute(text("DELETE FROM days_off WHERE id <> :id"), {"id": scene.theirs})
    db.session.execute(update(Slot).where(Slot.id == scene.free).values(deleted_at=None, updated_at=NOW))
    db.session.commit()


# Valid values, the edges among them; `form` spoils some fields of two submissions in three (numbers out of range,
# text, several values, left out).
NUMBERS = {
    "session_minutes": pick("50", "15", "60", "45", " 30 ", "240"),
    "break_minutes": pick("10", "0", "120", "5"),
    "notice_hours": pick("12", "0", "24", "720"),
    "horizon_days": pick("14", "1", "30", "7"),
    "cutoff_hours": pick("24", "0", "12", "720"),
}


@FUZZ
@given(data=form({**{day: ranges() for day in WEEK}, **NUMBERS}))
def test_availability(scene, tally, data):
    before = fingerprint()
    response, body = scene.poster.post("/specialist/availability", data)
    if response.status_code != 303:
        tally["refused"] += 1
        assert response.status_code in (422, 400), response.status_code
        assert response.status_code == 400 or 'class="field-error"' in response.get_data(as_text=True)
        assert fingerprint() == before
        return
    tally["accepted"] += 1
    form_values = received(body)
    saved = db.session.get(Availability, scene.doc)
    for name in NUMBERS:
        assert getattr(saved, name) == int(form_values.getlist(name)[0])
    for weekday, name in enumerate(WEEK):
        given_ranges = parse_ranges(cleaned(body, name) or "")
        stored = db.session.execute(
            text("SELECT start_minute, end_minute FROM working_hours WHERE weekday = :d ORDER BY start_minute"),
            {"d": weekday},
        ).all()
        assert [tuple(row) for row in stored] == given_ranges
    generated = db.session.scalars(select(Slot).where(Slot.generated)).all()
    assert all(
        (slot.ends_at - slot.starts_at).total_seconds() == saved.session_minutes * 60 and slot.starts_at > NOW
        for slot in generated
    )
    scene.poster.flashes()
    restore(scene)


@FUZZ
@given(
    data=form({"first_day": DAY, "last_day": DAY, "note": WORDS}),
    odd=st.none() | pick(*DATES, "2026-12-07", "2027-12-09", "2028-01-01"),
)
def test_add_days_off(scene, tally, data, odd):
    if odd is not None:
        data["first_day" if len(odd) % 2 else "last_day"] = odd
    before = fingerprint()
    response, body = scene.poster.post("/specialist/availability/days-off", data)
    if response.status_code != 303:
        tally["refused"] += 1
        assert response.status_code in (422, 400), response.status_code
        assert response.status_code == 400 or 'class="field-error"' in response.get_data(as_text=True)
        assert fingerprint() == before
        return
    tally["accepted"] += 1
    period = db.session.scalars(select(DayOff).where(DayOff.specialist_id == scene.doc)).one()
    first = date.fromisoformat(received(body).getlist("first_day")[0].strip())
    last = date.fromisoformat(received(body).getlist("last_day")[0].strip())
    assert (period.first_day, period.last_day, period.note) == (first, last, cleaned(body, "note") or None)
    covers = first <= date(2026, 12, 20) <= last
    assert (db.session.get(Slot, scene.free).deleted_at is not None) == covers
    assert db.session.get(Slot, scene.asked).deleted_at is None  # it has a request: the specialist handles it
    scene.poster.flashes()
    restore(scene)


@FUZZ
@given(extra=form({}), which=st.data())
def test_remove_days_off(scene, tally, extra, which):
    mine = DayOff(specialist_id=scene.doc, first_day=date(2026, 12, 30), last_day=date(2026, 12, 31))
    db.session.add(mine)
    db.session.commit()
    mine_id = mine.id
    day_off_id = which.draw(ident(mine_id, scene.theirs))
    if button(scene.poster, f"/specialist/availability/days-off/{quoted(day_off_id)}/remove", extra, tally):
        assert db.session.get(DayOff, mine_id) is None
    assert db.session.get(DayOff, scene.theirs) is not None
    restore(scene)
