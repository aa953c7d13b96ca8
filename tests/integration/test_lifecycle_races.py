"""Races on a consultation's life, from real threads against PostgreSQL: every end state is consistent, no 5xx."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.models import Consultation, OutboxEmail
from tests.factories import make_consultation, make_slot, make_user
from tests.support.race import logged_in, race

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
ROUNDS = 4


def at(specialist, hours: float):
    return make_slot(specialist, starts_at=NOW + timedelta(hours=hours), minutes=50)


def status_of(consultation_id: int) -> tuple[str, str | None]:
    row = _db.session.execute(
        select(Consultation.status, Consultation.cancel_reason).where(Consultation.id == consultation_id)
    ).one()
    return row.status, row.cancel_reason


def accepted_on(slot_id: int) -> int:
    return _db.session.scalar(
        select(func.count(Consultation.id)).where(Consultation.slot_id == slot_id, Consultation.status == "accepted")
    )


def kinds_to(user) -> list[str]:
    return list(_db.session.scalars(select(OutboxEmail.kind).where(OutboxEmail.user_id == user.id)))


def test_accepting_a_new_time_while_the_client_cancels_the_old_one(app, frozen):
    specialist = make_user("specialist", username="bleuler")
    outcomes = set()
    for round_ in range(ROUNDS):
        me = make_user("client", username=f"anna{round_}")
        old, new = at(specialist, 30 + 10 * round_), at(specialist, 35 + 10 * round_)
        accepted = make_consultation(old, me, "accepted")
        request = make_consultation(new, me, rescheduled_from_id=accepted.id)
        doctor, doctor_token = logged_in(app, specialist, "/specialist/consultations")
        client, client_token = logged_in(app, me, "/client/consultations")
        answers = race(
            app,
            [
                (doctor, f"/specialist/consultations/{request.id}/accept", {"csrf_token": doctor_token}),
                (
                    client,
                    f"/client/consultations/{accepted.id}/cancel",
                    {"csrf_token": client_token, "reason": "Health"},
                ),
            ],
        )
        assert [answer.status_code for answer in answers] == [303, 303]
        _db.session.expire_all()
        old_state, new_state = status_of(accepted.id), status_of(request.id)
        # Either order leaves the new time booked and the old one cancelled, its slot free: never both, never none.
        assert new_state == ("accepted", None)
        assert old_state in {("cancelled", "Health"), ("cancelled", "Rescheduled")}
        assert accepted_on(old.id) == 0 and accepted_on(new.id) == 1
        mails = kinds_to(me)
        if old_state[1] == "Health":  # the client's cancellation came first
            assert sorted(mails) == ["cancellation_confirmed", "request_accepted"]
        else:
            assert sorted(mails) == ["reschedule_accepted", "reschedule_replaced"]
        outcomes.add(old_state[1])
    assert outcomes  # at least one round ran to the end


def test_two_new_times_and_an_accept_on_one_slot(app, frozen):
    specialist = make_user("specialist", username="ferenczi")
    for round_ in range(ROUNDS):
        base = 30 + 20 * round_
        a, b, c = (make_user("client", username=f"{name}{round_}") for name in ("ada", "bob", "cyd"))
        a_slot, b_slot, target = at(specialist, base), at(specialist, base + 1), at(specialist, base + 2)
        a_booked = make_consultation(a_slot, a, "accepted")
        b_pending = make_consultation(b_slot, b)
        c_pending = make_consultation(target, c)
        browsers = [logged_in(app, user, "/client/consultations") for user in (a, b)]
        doctor, doctor_token = logged_in(app, specialist, "/specialist/consultations")
        answers = race(
            app,
            [
                (
                    browsers[0][0],
                    f"/client/consultations/{a_booked.id}/reschedule",
                    {"csrf_token": browsers[0][1], "slot_id": str(target.id)},
                ),
                (
                    browsers[1][0],
                    f"/client/consultations/{b_pending.id}/reschedule",
                    {"csrf_token": browsers[1][1], "slot_id": str(target.id)},
                ),
                (doctor, f"/specialist/consultations/{c_pending.id}/accept", {"csrf_token": doctor_token}),
            ],
        )
        assert all(answer.status_code in (303, 422) for answer in answers), [a.status_code for a in answers]
        _db.session.expire_all()
        assert status_of(c_pending.id) == ("accepted", None)
        assert accepted_on(target.id) == 1
        # A's booking stands whatever happened to the request for a new time; nothing is left pending on the slot.
        assert status_of(a_booked.id) == ("accepted", None)
        left = _db.session.scalar(
            select(func.count(Consultation.id)).where(
                Consultation.slot_id == target.id, Consultation.status == "pending"
            )
        )
        assert left == 0
        b_now = _db.session.execute(
            select(Consultation.slot_id, Consultation.status).where(Consultation.id == b_pending.id)
        ).one()
        assert tuple(b_now) in {(b_slot.id, "pending"), (target.id, "rejected")}


def test_one_client_asking_twice_at_once_gets_one_request(app, frozen):
    specialist = make_user("specialist", username="rank")
    me = make_user("client", username="otto")
    booked = make_consultation(at(specialist, 30), me, "accepted")
    first, second = at(specialist, 40), at(specialist, 50)
    one, one_token = logged_in(app, me, "/client/consultations")
    two, two_token = logged_in(app, me, "/client/consultations")
    url = f"/client/consultations/{booked.id}/reschedule"
    answers = race(
        app,
        [
            (one, url, {"csrf_token": one_token, "slot_id": str(first.id)}),
            (two, url, {"csrf_token": two_token, "slot_id": str(second.id)}),
        ],
    )
    assert [answer.status_code for answer in answers] == [303, 303]
    _db.session.expire_all()
    requests = _db.session.scalars(select(Consultation).where(Consultation.rescheduled_from_id == booked.id)).all()
    assert len(requests) == 1 and requests[0].status == "pending"
    assert status_of(booked.id) == ("accepted", None)


def test_blocking_a_specialist_while_clients_request_leaves_nothing_pending(app, frozen):
    specialist = make_user("specialist", username="stekel")
    admin = make_user("admin", username="warden")
    clients = [make_user("client", username=f"late{n}") for n in range(5)]
    slots = [at(specialist, 30 + n) for n in range(len(clients))]
    make_consultation(slots[0], make_user("client", username="early"))  # a request the block finds at once
    posts = []
    for client, slot in zip(clients, slots, strict=True):
        browser, token = logged_in(app, client, "/client/slots")
        posts.append((browser, f"/client/slots/{slot.id}/request", {"csrf_token": token}))
    boss, boss_token = logged_in(app, admin, "/admin/users")
    posts.append(
        (
            boss,
            f"/admin/users/{specialist.id}/block",
            {"csrf_token": boss_token, "confirm": "yes", "next": "/admin/users"},
        )
    )
    answers = race(app, posts)
    assert all(answer.status_code < 500 for answer in answers), [answer.status_code for answer in answers]
    _db.session.expire_all()
    statuses = list(_db.session.scalars(select(Consultation.status)))
    assert "pending" not in statuses and set(statuses) <= {"rejected"}
    # Each client whose request got in before the block is told once, in the block's email.
    told = _db.session.scalars(select(OutboxEmail.user_id).where(OutboxEmail.kind == "specialist_unavailable")).all()
    rejected = _db.session.scalars(select(Consultation.client_id).where(Consultation.status == "rejected")).all()
    assert sorted(told) == sorted(rejected)
