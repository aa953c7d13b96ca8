"""The specialist's row lock taken before a slot is published, edited or transferred: it sees a block that
committed while it waited, and the same code runs on SQLite (the embedded default), where there are no row locks."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from portal import create_app
from portal.extensions import db as _db
from portal.models import Slot
from portal.services import slots as slots_service
from portal.services.errors import DomainError
from tests.factories import make_slot, make_user

BERLIN = ZoneInfo("Europe/Berlin")
MARCH_10 = datetime(2026, 3, 10, 8, 0, tzinfo=BERLIN)


def block_elsewhere(user_id: int) -> None:
    """Block a user from another connection, as an admin's request would, and commit."""
    with _db.engine.begin() as connection:
        connection.execute(text("UPDATE users SET is_blocked = true WHERE id = :id"), {"id": user_id})


@pytest.fixture
def specialist(clock):
    clock.set(MARCH_10)
    return make_user("specialist", username="dr_lock", timezone="Europe/Berlin")


def test_a_specialist_blocked_while_publishing_gets_no_slot(app, db, specialist):
    assert specialist.is_blocked is False  # loaded in this session before the block
    block_elsewhere(specialist.id)
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        slots_service.create_slots(specialist, date(2026, 3, 12), time(9), time(10))
    assert refused.value.message == "Your account is blocked"
    db.session.rollback()
    assert db.session.scalars(select(Slot)).all() == []


def test_a_transfer_to_a_specialist_blocked_meanwhile_is_refused(app, db, specialist):
    slot = make_slot(specialist, starts_at=datetime(2026, 3, 12, 10, 0, tzinfo=BERLIN))
    colleague = make_user("specialist", username="dr_meanwhile")
    assert colleague.is_blocked is False  # loaded in this session before the block
    block_elsewhere(colleague.id)
    with app.test_request_context(), pytest.raises(DomainError) as refused:
        slots_service.edit_slot(specialist, slot.id, new_owner="dr_meanwhile")
    assert refused.value.field == "specialist" and "not one" in refused.value.message
    db.session.rollback()
    assert db.session.get(Slot, slot.id).specialist_id == specialist.id


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    """The portal on a SQLite file of this test's own, its clock fixed on a Tuesday morning in Berlin."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    application = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
            "SECRET_KEY": "x",
            "CLOCK": lambda: MARCH_10,
        }
    )
    with application.app_context():
        _db.create_all()
        yield application
        _db.session.remove()
        _db.engine.dispose()


def test_publishing_editing_and_transferring_work_on_sqlite(sqlite_app):
    with sqlite_app.test_request_context():
        assert _db.engine.dialect.name == "sqlite"
        specialist = make_user("specialist", username="dr_sqlite", timezone="Europe/Berlin")
        make_user("specialist", username="dr_other")
        created = slots_service.create_slots(specialist, date(2026, 3, 12), time(9), time(10), repeat_weeks=1)
        _db.session.commit()
        with pytest.raises(DomainError) as refused:
            slots_service.create_slots(specialist, date(2026, 3, 12), time(9, 30), time(10, 30))
        assert "overlaps your slot Thu, 12 Mar 2026, 09:00–10:00" in refused.value.message
        _db.session.rollback()
        slot, changed = slots_service.edit_slot(specialist, created[1].id, start=time(11), end=time(12))
        assert changed and slot.starts_at.astimezone(BERLIN).hour == 11
        slot, changed = slots_service.edit_slot(specialist, created[0].id, new_owner="DR_OTHER")
        _db.session.commit()
        owners = dict(_db.session.execute(select(Slot.id, Slot.specialist_id)).all())
    assert owners == {created[0].id: slot.specialist_id, created[1].id: specialist.id}
    assert slot.specialist_id != specialist.id
