"""The operations do what the pages do, through the same services: lists in keyset pages with `next` links,
times with offsets in and out, slots published, changed, transferred and deleted, answers to requests, blocking;
refusals as 422 by field, 409 when the state changed first, 404 for what is not there."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from portal.extensions import db as _db
from portal.models import Consultation, ModerationLog, Slot, User
from tests.factories import make_consultation, make_slot, make_user
from tests.support.api import assert_problem, make_token

NOW = datetime(2031, 5, 5, 9, 0, tzinfo=UTC)  # a Monday
BERLIN = ZoneInfo("Europe/Berlin")


def relative(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc, url  # absolute, ready to follow
    return f"{parts.path}?{parts.query}"


def test_free_slots_come_in_pages_with_next_and_prev_links(api, frozen, count_queries):
    specialist = make_user("specialist", username="dr.page")
    for n in range(25):
        make_slot(specialist, starts_at=NOW + timedelta(days=1, hours=n))
    token = make_token(make_user("client", timezone="Asia/Tokyo"))
    first = api.get("/api/v1/slots", token).get_json()
    assert len(first["items"]) == 20 and first["prev"] is None
    assert first["items"][0]["starts_at"] == "2031-05-06T18:00:00+09:00"  # 09:00 UTC tomorrow, in Tokyo
    with count_queries() as counted:
        second = api.get(relative(first["next"]), token).get_json()
    assert len(second["items"]) == 5 and second["next"] is None
    assert [s["id"] for s in first["items"] + second["items"]] == sorted(
        s["id"] for s in first["items"] + second["items"]
    )
    back = api.get(relative(second["prev"]), token).get_json()
    assert back["items"] == first["items"]
    # A list costs the same number of statements whatever its size.
    for n in range(40):
        make_slot(specialist, starts_at=NOW + timedelta(days=3, hours=n))
    with count_queries() as bigger:
        api.get(relative(first["next"]), token)
    assert bigger.count == counted.count


def test_slot_filters_are_days_in_the_callers_zone(api, frozen):
    specialist = make_user("specialist", specialty="Dietitian")
    late = make_slot(specialist, starts_at=datetime(2031, 5, 6, 22, 30, tzinfo=UTC))  # 7 May in Berlin
    early = make_slot(specialist, starts_at=datetime(2031, 5, 6, 10, 0, tzinfo=UTC))
    token = make_token(make_user("client", timezone="Europe/Berlin"))
    found = api.get("/api/v1/slots?from=2031-05-07&to=2031-05-07&specialty=diet", token).get_json()["items"]
    assert [s["id"] for s in found] == [late.id]
    found = api.get("/api/v1/slots?to=2031-05-06", token).get_json()["items"]
    assert [s["id"] for s in found] == [early.id]
    body = assert_problem(api.get("/api/v1/slots?from=2031-05-07&to=2031-05-06", token), 422)
    assert body["errors"] == {"to": ["“To” cannot be before “From”."]}
    assert_problem(api.get("/api/v1/slots?after=not-a-cursor", token), 422)


def test_specialists_are_the_active_ones(api):
    make_user("specialist", username="active.one", specialty="Psychologist", display_name="Anna")
    make_user("specialist", username="blocked.one", blocked=True)
    make_user("specialist", username="unconfirmed.one", confirmed=False)
    make_user("specialist", username="lawyer.one", specialty="Lawyer")
    token = make_token(make_user("admin"))
    names = [s["username"] for s in api.get("/api/v1/specialists", token).get_json()["items"]]
    assert names == ["active.one", "lawyer.one"]
    found = api.get("/api/v1/specialists?q=ANNA", token).get_json()["items"]
    assert found == [{"username": "active.one", "name": "Anna", "specialty": "Psychologist", "bio": None}]
    assert [s["username"] for s in api.get("/api/v1/specialists?specialty=law", token).get_json()["items"]] == [
        "lawyer.one"
    ]


def test_a_new_slot_is_read_in_the_specialists_zone_and_repeated_weekly(api, frozen):
    specialist = make_user("specialist", timezone="Europe/Berlin")
    token = make_token(specialist)
    response = api.post(
        "/api/v1/me/slots",
        token,
        json={"starts_at": "2031-05-08T08:00:00Z", "ends_at": "2031-05-08T08:45:00+00:00", "repeat_weeks": 2},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    items = response.get_json()["items"]
    assert [s["starts_at"] for s in items] == [
        "2031-05-08T10:00:00+02:00",
        "2031-05-15T10:00:00+02:00",
        "2031-05-22T10:00:00+02:00",
    ]
    assert {(s["duration_minutes"], s["state"], s["specialist"]) for s in items} == {(45, "free", specialist.username)}
    slots = _db.session.query(Slot).filter_by(specialist_id=specialist.id).order_by(Slot.starts_at).all()
    assert [s.starts_at for s in slots] == [datetime(2031, 5, d, 8, 0, tzinfo=UTC) for d in (8, 15, 22)]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"starts_at": "2031-05-08T10:00:00", "ends_at": "2031-05-08T11:00:00+02:00"}, "starts_at", "aware"),
        ({"starts_at": "2031-05-08T10:00:30+02:00", "ends_at": "2031-05-08T11:00:00+02:00"}, "starts_at", "minutes"),
        ({"starts_at": "2031-05-08T23:00:00+02:00", "ends_at": "2031-05-09T01:00:00+02:00"}, "ends_at", "same date"),
        ({"starts_at": "2031-05-01T10:00:00+02:00", "ends_at": "2031-05-01T11:00:00+02:00"}, "starts_at", "passed"),
        ({"starts_at": "2031-05-08T10:00:00+02:00", "ends_at": "2031-05-08T23:00:00+02:00"}, "starts_at", "12 hours"),
        (
            {"starts_at": "2031-05-08T10:00:00+02:00", "ends_at": "2031-05-08T11:00:00+02:00", "repeat_weeks": 13},
            "repeat_weeks",
            "0 to 12",
        ),
        (
            {"starts_at": "2031-05-08T10:00:00+02:00", "ends_at": "2031-05-08T11:00:00+02:00", "colour": "red"},
            "colour",
            "Unknown field",
        ),
        (
            {"starts_at": "2031-05-08T10:00:00+02:00", "ends_at": "2031-05-08T11:00:00+02:00", "note": "a\x00b"},
            "note",
            "control characters",
        ),
    ],
)
def test_a_refused_slot_names_its_field(api, frozen, body, field, message):
    token = make_token(make_user("specialist", timezone="Europe/Berlin"))
    problem = assert_problem(api.post("/api/v1/me/slots", token, json=body), 422)
    assert list(problem["errors"]) == [field] and message in problem["errors"][field][0], problem
    assert _db.session.query(Slot).count() == 0


def test_an_overlap_is_refused_with_the_pages_words(api, frozen):
    specialist = make_user("specialist", timezone="Europe/Berlin")
    make_slot(specialist, starts_at=datetime(2031, 5, 8, 8, 0, tzinfo=UTC), minutes=60)
    body = {"starts_at": "2031-05-08T10:30:00+02:00", "ends_at": "2031-05-08T11:30:00+02:00"}
    problem = assert_problem(api.post("/api/v1/me/slots", make_token(specialist), json=body), 422)
    assert problem["errors"]["starts_at"] == [
        "This overlaps your slot Thu, 8 May 2031, 10:00–11:00. Slots may touch but not overlap."
    ]


def test_a_slot_is_changed_transferred_and_deleted(api, frozen, rq_worker, mail):
    specialist = make_user("specialist", username="dr.old", timezone="Europe/Berlin")
    other = make_user("specialist", username="dr.new")
    client = make_user("client")
    slot = make_slot(specialist, starts_at=datetime(2031, 5, 8, 8, 0, tzinfo=UTC), minutes=60)
    make_consultation(slot, client, status="accepted")
    token = make_token(specialist)
    moved = api.patch(f"/api/v1/me/slots/{slot.id}", token, json={"starts_at": "2031-05-08T07:00:00Z"})
    assert moved.status_code == 200, moved.get_data(as_text=True)
    # The end keeps its wall-clock time (11:00 in Berlin), as on the edit page.
    body = moved.get_json()
    assert (body["starts_at"], body["ends_at"], body["state"]) == (
        "2031-05-08T09:00:00+02:00",
        "2031-05-08T11:00:00+02:00",
        "booked",
    )
    problem = assert_problem(api.patch(f"/api/v1/me/slots/{slot.id}", token, json={"specialist": "nobody"}), 422)
    assert list(problem["errors"]) == ["specialist"]
    given = api.patch(f"/api/v1/me/slots/{slot.id}", token, json={"specialist": "DR.NEW", "note": "Room 2"})
    assert given.status_code == 200 and given.get_json()["specialist"] == "dr.new"
    assert given.get_json()["client"] == client.username and given.get_json()["state"] == "booked"
    assert_problem(api.get(f"/api/v1/me/slots/{slot.id}", token), 404)  # no longer theirs
    deleted = api.delete(f"/api/v1/me/slots/{slot.id}", make_token(other))
    assert deleted.get_json() == {"id": slot.id, "cancelled_consultations": 1}
    _db.session.expire_all()
    assert _db.session.query(Consultation).one().status == "cancelled_by_specialist"
    assert _db.session.get(Slot, slot.id).deleted_at is not None
    assert mail.wait_for(3, to=client.email)  # moved, transferred, deleted: like the pages


def test_a_patch_keeps_what_it_does_not_name(api, frozen):
    specialist = make_user("specialist", timezone="Europe/Berlin")
    slot = make_slot(specialist, starts_at=datetime(2031, 5, 8, 8, 0, tzinfo=UTC), minutes=60, note="Room 1")
    token = make_token(specialist)
    changed = api.patch(f"/api/v1/me/slots/{slot.id}", token, json={"ends_at": "2031-05-08T11:30:00+02:00"})
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["starts_at"], body["ends_at"], body["note"]) == (
        "2031-05-08T10:00:00+02:00",
        "2031-05-08T11:30:00+02:00",
        "Room 1",
    )
    cleared = api.patch(f"/api/v1/me/slots/{slot.id}", token, json={"note": None}).get_json()
    assert cleared["note"] is None and cleared["duration_minutes"] == 90


def test_accept_rejects_the_others_and_a_late_accept_is_409(api, frozen):
    specialist = make_user("specialist")
    slot = make_slot(specialist, starts_at=NOW + timedelta(days=2))
    first, second = make_user("client"), make_user("client")
    one, two = make_consultation(slot, first), make_consultation(slot, second)
    token = make_token(specialist)
    accepted = api.post(f"/api/v1/consultations/{one.id}/accept", token)
    assert accepted.status_code == 200
    assert accepted.get_json()["status"] == "accepted" and accepted.get_json()["rejected"] == [two.id]
    # The other request is no longer pending: answering it now conflicts with what happened first.
    body = assert_problem(api.post(f"/api/v1/consultations/{two.id}/accept", token), 409)
    assert body["detail"] == "This request is no longer pending: it is Rejected."
    # A client asking for the booked slot: 409 too.
    body = assert_problem(api.post(f"/api/v1/slots/{slot.id}/request", make_token(make_user("client"))), 409)
    assert body["detail"] == "This slot has just been booked by someone else."


def test_two_pending_requests_accepted_over_a_booked_slot_conflict(api, frozen):
    specialist = make_user("specialist")
    slot = make_slot(specialist, starts_at=NOW + timedelta(days=2))
    make_consultation(slot, make_user("client"), status="accepted")
    waiting = make_consultation(slot, make_user("client"))
    body = assert_problem(api.post(f"/api/v1/consultations/{waiting.id}/accept", make_token(specialist)), 409)
    assert "already booked" in body["detail"]
    assert _db.session.get(Consultation, waiting.id).status == "pending"


def test_reject_with_a_reason_and_cancel_needs_one(api, frozen):
    specialist, client = make_user("specialist"), make_user("client")
    slot = make_slot(specialist, starts_at=NOW + timedelta(days=2))
    asked = make_consultation(slot, client)
    rejected = api.post(f"/api/v1/consultations/{asked.id}/reject", make_token(specialist), json={"reason": "Away"})
    assert rejected.get_json()["status"] == "rejected" and rejected.get_json()["reject_reason"] == "Away"
    other = make_consultation(make_slot(specialist, starts_at=NOW + timedelta(days=3)), client)
    token = make_token(client)
    body = assert_problem(api.post(f"/api/v1/consultations/{other.id}/cancel", token, json={}), 422)
    assert body["errors"] == {"reason": ["Choose a reason or write a comment."]}
    body = assert_problem(api.post(f"/api/v1/consultations/{other.id}/cancel", token, json={"reason": "Bored"}), 422)
    assert list(body["errors"]) == ["reason"]
    done = api.post(f"/api/v1/consultations/{other.id}/cancel", token, json={"comment": "Travelling"})
    assert done.get_json()["status"] == "cancelled" and done.get_json()["cancel_comment"] == "Travelling"
    assert_problem(api.post(f"/api/v1/consultations/{other.id}/cancel", token, json={"reason": "Other"}), 409)


def test_a_missing_slot_is_404(api, frozen):
    assert_problem(api.post("/api/v1/slots/999999/request", make_token(make_user("client"))), 404)


def test_blocking_and_unblocking_over_the_api(api, frozen):
    admin = make_user("admin")
    target = make_user("client", username="spammer")
    target_token = make_token(target)
    token = make_token(admin)
    blocked = api.post(f"/api/v1/admin/users/{target.id}/block", token, json={"reason": "Spam"})
    assert blocked.status_code == 200
    assert (blocked.get_json()["blocked"], blocked.get_json()["blocked_reason"]) == (True, "Spam")
    assert_problem(api.get("/api/v1/slots", target_token), 403)
    listed = api.get("/api/v1/admin/users?blocked=yes", token).get_json()["items"]
    assert [u["username"] for u in listed] == ["spammer"]
    assert_problem(api.post(f"/api/v1/admin/users/{target.id}/block", token), 422)  # already blocked
    assert api.post(f"/api/v1/admin/users/{target.id}/unblock", token).get_json()["blocked"] is False
    assert api.get("/api/v1/slots", target_token).status_code == 200
    actions = [row.action for row in _db.session.query(ModerationLog).order_by(ModerationLog.id)]
    assert actions == ["block", "unblock"]


def test_blocking_an_admin_needs_confirm(api):
    token = make_token(make_user("admin"))
    other = make_user("admin")
    body = assert_problem(api.post(f"/api/v1/admin/users/{other.id}/block", token, json={}), 422)
    assert list(body["errors"]) == ["confirm"]
    assert api.post(f"/api/v1/admin/users/{other.id}/block", token, json={"confirm": True}).status_code == 200
    assert _db.session.get(User, other.id).is_blocked
