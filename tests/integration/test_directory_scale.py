"""The directory, a busy profile and the booking page cost the same number of queries with a handful of rows
and with thousands, load bounded rows, and walk indexes."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from portal.blueprints.directory.queries import FREE_TIMES_MAX
from portal.extensions import db as _db
from portal.models import Consultation, Slot, User
from tests.factories import make_user, password_hash
from tests.support.queries import explain, queries_for

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
SPECIALTIES = ("Psychologist", "Lawyer", "Dietitian", "Coach")


def add_users(role: str, count: int, prefix: str) -> list[int]:
    rows = [
        {
            "username": f"{prefix}{n:05d}",
            "email": f"{prefix}{n:05d}@example.com",
            "password_hash": password_hash(),
            "role": role,
            "display_name": f"Name {prefix} {n:05d}" if n % 3 else None,
            "timezone": "Europe/Berlin",
            "locale": "en",
            "specialty": SPECIALTIES[n % 4] if role == "specialist" else None,
            "bio": "Practice of many years. " * 12 if role == "specialist" else None,
            "confirmed_at": NOW,
            "is_blocked": role == "specialist" and n % 50 == 7,
            "session_token": f"{prefix}-{n}",
            "created_at": NOW - timedelta(days=n % 400),
        }
        for n in range(count)
    ]
    ids = list(_db.session.scalars(insert(User).returning(User.id), rows))
    _db.session.commit()
    return ids


def add_slots(specialist_ids, per_specialist: int, start: datetime, step: timedelta) -> list[int]:
    rows = [
        {
            "specialist_id": ident,
            "starts_at": start + n * step,
            "ends_at": start + n * step + min(step, timedelta(minutes=45)),
            "note": f"slot {n}",
            "deleted_at": NOW if n % 37 == 5 else None,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for ident in specialist_ids
        for n in range(per_specialist)
    ]
    ids = list(_db.session.scalars(insert(Slot).returning(Slot.id), rows))
    _db.session.commit()
    return ids


def book_some(slot_ids, client_id: int) -> None:
    rows = [
        {"slot_id": ident, "client_id": client_id, "status": ("accepted", "pending", "rejected")[n % 3]}
        for n, ident in enumerate(slot_ids)
        if n % 4 == 0
    ]
    _db.session.execute(insert(Consultation), [{**row, "created_at": NOW, "updated_at": NOW} for row in rows])
    _db.session.commit()


def next_link(html: str) -> str | None:
    found = re.search(r'href="([^"]+)" rel="next"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def measure(anonymous, client, count_queries, busy: str, slot_id: int) -> dict[str, int]:
    counts = {}
    for name, url in (
        ("directory", "/specialists"),
        ("directory searched", "/specialists?q=name"),
        ("directory by specialty", "/specialists?specialty=Lawyer&q=Sp"),
        ("profile", f"/specialists/{busy}"),
        ("profile later", f"/specialists/{busy}?from=2026-06-10"),
        ("profile empty window", f"/specialists/{busy}?from=2027-06-10"),
    ):
        counts[name], html = queries_for(anonymous, count_queries, url)
        if name.startswith("directory") and next_link(html):
            counts[name + " page 2"], _ = queries_for(anonymous, count_queries, next_link(html))
    counts["directory as a client"], _ = queries_for(client, count_queries, "/specialists")
    counts["booking page"], _ = queries_for(client, count_queries, f"/book/{slot_id}")
    return counts


def test_public_pages_run_a_fixed_number_of_queries(client, app, auth, frozen, count_queries, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)  # so that a few specialists make several pages
    me = make_user("client", timezone="Asia/Vladivostok")
    me_id = me.id
    busy = make_user("specialist", username="busy", display_name="Busy Bee", specialty="Lawyer").id
    auth.login_as(me)
    anonymous = app.test_client()
    small = add_users("specialist", 12, "sp")
    add_slots(small, 3, NOW + timedelta(hours=2), timedelta(days=1))
    mine = add_slots([busy], 5, NOW + timedelta(hours=1), timedelta(hours=3))
    book_some(mine, me_id)
    at_small = measure(anonymous, client, count_queries, "busy", mine[1])
    assert {"directory page 2", "directory searched page 2", "directory by specialty page 2"} <= set(at_small)

    # Hundreds of specialists among thousands of clients, thousands of slots, and 14 days of the busy
    # specialist's times every 30 minutes: more than a profile shows at once.
    large = add_users("specialist", 400, "more")
    clients = add_users("client", 4000, "cl")
    add_slots(large, 25, NOW - timedelta(days=5), timedelta(hours=13))
    many = add_slots([busy], 14 * 48, NOW + timedelta(days=1), timedelta(minutes=30))
    book_some(many, clients[0])
    at_large = measure(anonymous, client, count_queries, "busy", many[2])
    assert at_large == at_small, (at_small, at_large)
    # The specialty select and the page of cards (each with its next free time); the profile and its free
    # times (the first free time from the window's start comes with the profile); the booking page's slot with
    # everything that decides the client's request. A logged-in visitor adds the loading of their account.
    assert at_small == {
        "directory": 2,
        "directory page 2": 2,
        "directory searched": 2,
        "directory searched page 2": 2,
        "directory by specialty": 2,
        "directory by specialty page 2": 2,
        "profile": 2,
        "profile later": 2,
        "profile empty window": 2,
        "directory as a client": 3,
        "booking page": 2,
    }, at_small
    html = anonymous.get("/specialists/busy").get_data(as_text=True)
    assert html.count('class="time-link"') == FREE_TIMES_MAX  # bounded, and says so
    assert "Only the first" in html

    with _db.engine.begin() as conn:
        conn.execute(text("ANALYZE users, slots, consultations"))
    plan = explain(anonymous, "/specialists", "ORDER BY lower(coalesce(")
    assert "ix_users_specialist_name" in plan  # walked in name order, stopped after a page: nothing sorts
    assert "Sort" not in plan.split("SubPlan")[0]
    plan = explain(anonymous, "/specialists/busy", "FROM slots JOIN users")
    assert "ix_slots_specialist_id_starts_at" in plan
