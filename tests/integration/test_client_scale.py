"""The client lists cost the same number of queries at 10 and at 10,000 rows, and walk an index."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from portal.extensions import db as _db
from portal.models import Consultation, Slot
from tests.factories import make_user
from tests.support.queries import explain, queries_for

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
SPECIALISTS = 20


def add_slots(specialist_ids, count: int, start: datetime) -> list[int]:
    """Bulk-insert slots, each specialist's an hour apart so they never overlap; returns their ids."""
    rows = []
    for n in range(count):
        starts = start + timedelta(hours=n // len(specialist_ids))
        rows.append(
            {
                "specialist_id": specialist_ids[n % len(specialist_ids)],
                "starts_at": starts,
                "ends_at": starts + timedelta(minutes=45),
                "note": f"slot {n}",
                "deleted_at": NOW if n % 97 == 0 else None,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    ids = list(_db.session.scalars(insert(Slot).returning(Slot.id), rows))
    _db.session.commit()
    return ids


def add_consultations(slot_ids, client_id: int, status_of) -> None:
    rows = [
        {"slot_id": slot_id, "client_id": client_id, "status": status_of(i), "created_at": NOW, "updated_at": NOW}
        for i, slot_id in enumerate(slot_ids)
        if status_of(i)
    ]
    if rows:
        _db.session.execute(insert(Consultation), rows)
    _db.session.commit()


def next_link(html: str) -> str:
    return re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")


def measure(client, count_queries) -> dict[str, int]:
    counts = {}
    for name, url in (
        ("slots", "/client/slots"),
        ("slots filtered", "/client/slots?specialty=psychologist&date_from=2026-06-01"),
        ("consultations", "/client/consultations"),
        ("past consultations", "/client/consultations?tab=past"),
    ):
        counts[name], html = queries_for(client, count_queries, url)
        if 'rel="next"' in html:
            counts[name + " page 2"], _ = queries_for(client, count_queries, next_link(html))
    return counts


def test_lists_run_a_fixed_number_of_queries(client, auth, frozen, count_queries, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)  # so that ten rows make several pages
    # One psychologist among specialists of other specialties, as in a directory of many.
    specialties = ["Psychologist", *(f"Specialty {n}" for n in range(1, SPECIALISTS))]
    specialists = [make_user("specialist", commit=False, specialty=specialty) for specialty in specialties]
    me = make_user("client")
    others = make_user("client")
    specialists, me_id, others_id = [s.id for s in specialists], me.id, others.id

    def mine(i):
        return ("pending", "accepted", "rejected", "cancelled", None)[i % 5]

    def theirs(i):
        return "accepted" if i % 7 == 0 and mine(i) != "accepted" else None

    small = add_slots(specialists[:1], 20, NOW - timedelta(hours=3))
    add_consultations(small, me_id, mine)
    add_consultations(small, others_id, theirs)
    auth.login_as(me)
    at_small = measure(client, count_queries)
    assert {"slots page 2", "consultations page 2", "past consultations"} <= set(at_small)

    # 10,000 more, past and future, of the other specialists.
    large = add_slots(specialists[1:], 10_000, NOW - timedelta(days=3))
    add_consultations(large, me_id, mine)
    add_consultations(large, others_id, theirs)
    at_large = measure(client, count_queries)
    assert at_large == at_small, (at_small, at_large)
    # The user, the page of slots (with the client's own request on each, and whether the client is busy then)
    # or of consultations; the finder's Specialty select lists the specialties (one bounded query); a
    # specialty filter reads each slot's own specialty (slots.specialty_key), in the same query.
    assert at_small == {
        "slots": 3,
        "slots page 2": 3,
        "slots filtered": 3,
        "slots filtered page 2": 3,
        "consultations": 2,
        "consultations page 2": 2,
        "past consultations": 2,
        "past consultations page 2": 2,
    }, at_small

    with _db.engine.begin() as conn:
        conn.execute(text("ANALYZE slots, users, consultations"))
    plan = explain(client, "/client/slots", "FROM slots JOIN users")
    assert "ix_slots_live_starts_at" in plan
    assert "Sort" not in plan.splitlines()[1]  # rows come in index order: nothing sorts the whole set
    plan = explain(client, "/client/slots?specialty=psychologist", "FROM slots JOIN users")
    assert "ix_slots_live_specialty_starts_at" in plan and "Sort" not in plan.splitlines()[1]
    explain(client, "/client/consultations", "FROM consultations JOIN slots")
