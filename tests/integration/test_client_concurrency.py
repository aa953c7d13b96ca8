"""Thirty clients request one slot at the same moment; one is accepted, the rest rejected, everyone told once."""

import threading

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import Consultation, User
from portal.services.requests import accept_request
from tests.factories import make_slot, make_user
from tests.support.mail import subject_of

CLIENTS = 30


def logged_in_client(app, user: User):
    """A separate browser-like client already holding the user's session."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def apart(action):
    """Run a browser step on its own thread, outside the test's app context, like a separate request would be."""
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(action()))
    thread.start()
    thread.join(30)
    return outcome[0]


@pytest.mark.slow
def test_thirty_clients_request_at_once_then_one_is_accepted(app, rq_worker, mail):
    specialist = make_user("specialist", username="busy_doc")
    slot = make_slot(specialist)
    slot_id, specialist_email = slot.id, specialist.email
    users = [make_user("client", username=f"rush{n:02d}") for n in range(CLIENTS)]
    clients = [logged_in_client(app, user) for user in users]
    barrier = threading.Barrier(CLIENTS, timeout=30)
    results: list = [None] * CLIENTS

    def request(n: int) -> None:
        client = clients[n]
        try:
            token = client.csrf_token("/client/slots")
            barrier.wait()
            response = client.post(f"/client/slots/{slot_id}/request", data={"csrf_token": token})
            page = client.get(response.headers["Location"]).get_data(as_text=True)
            results[n] = (response.status_code, "Your request is sent to @busy_doc" in page)
        except Exception as error:  # reported below, with the thread it happened in
            results[n] = error

    threads = [threading.Thread(target=request, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [(303, True)] * CLIENTS

    _db.session.expire_all()
    requests = _db.session.scalars(select(Consultation).where(Consultation.slot_id == slot.id)).all()
    assert sorted(c.client_id for c in requests) == sorted(u.id for u in users)
    assert {c.status for c in requests} == {"pending"}
    assert len(mail.wait_for(CLIENTS, to=specialist.email, timeout=90)) == CLIENTS

    winner = requests[7]
    with app.test_request_context():
        accept_request(_db.session.get(User, specialist.id), winner.id)
        _db.session.commit()
    _db.session.expire_all()
    statuses = dict(_db.session.execute(select(Consultation.client_id, Consultation.status)).all())
    assert sorted(statuses.values()) == ["accepted"] + ["rejected"] * (CLIENTS - 1)
    assert statuses[winner.client_id] == "accepted"

    assert len(mail.wait_for(2 * CLIENTS, timeout=90)) == 2 * CLIENTS
    mail.wait_for(2 * CLIENTS + 1, timeout=2)  # give a duplicate the chance to show up
    for user in users:
        received = mail.to(user.email)
        assert len(received) == 1, (user.username, [subject_of(m) for m in received])
    assert len(mail.messages) == 2 * CLIENTS

    # The winner cancels: the slot is offered again, a newcomer can book it, a rejected client still cannot.
    winner_client = clients[[u.id for u in users].index(winner.client_id)]

    def cancel():
        url = f"/client/consultations/{winner.id}/cancel"
        token = winner_client.csrf_token(url)
        return winner_client.post(url, data={"csrf_token": token, "reason": "Health"}).status_code

    assert apart(cancel) == 303
    newcomer = logged_in_client(app, make_user("client"))
    assert f'id="slot-{slot_id}"' in apart(lambda: newcomer.get("/client/slots").get_data(as_text=True))
    loser = clients[0] if users[0].id != winner.client_id else clients[1]

    def request_again(client):
        token = client.csrf_token("/client/slots")
        response = client.post(f"/client/slots/{slot_id}/request", data={"csrf_token": token})
        return client.get(response.headers["Location"]).get_data(as_text=True)

    assert "declined your request" in apart(lambda: request_again(loser))
    assert "Your request is sent" in apart(lambda: request_again(newcomer))
    _db.session.expire_all()
    active = _db.session.scalars(
        select(Consultation.status).where(Consultation.slot_id == slot_id, Consultation.status == "pending")
    ).all()
    assert active == ["pending"]
    # The cancellation and the newcomer's request reach the specialist, and the winner's own confirmation of the
    # cancellation reaches them, before the next test begins.
    assert len(mail.wait_for(2 * CLIENTS + 3)) == 2 * CLIENTS + 3
    assert len(mail.to(specialist_email)) == CLIENTS + 2
