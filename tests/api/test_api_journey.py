"""The seed's whole journey as a script would do it: plain `requests` against the running portal.

A client lists free slots, requests one and sees it pending; the specialist accepts over the API; the client sees
it accepted and cancels with Found_another_specialist. The same emails arrive as when it is done on the pages."""

import re
from datetime import timedelta

import requests

from portal.clock import utcnow
from portal.extensions import db as _db
from portal.models import ApiToken, Consultation
from tests.factories import make_slot, make_user
from tests.support.api import make_token
from tests.support.mail import body_of, subject_of

TOKEN_ON_PAGE = re.compile(r'<code class="token-value">(cpt_[A-Za-z0-9_\-]+)</code>')


def token_from_profile(client, name: str) -> str:
    """Create a token with the profile's form, as a person does, and read it off the page."""
    response = client.submit("/profile", {"token-name": name, "token-submit": "Create token"})
    assert response.status_code == 200
    return TOKEN_ON_PAGE.search(response.get_data(as_text=True)).group(1)


def test_the_whole_journey_over_the_api(auth, client, live_server, rq_worker, mail):
    specialist = make_user("specialist", username="dr.berg", timezone="Europe/Berlin", display_name="Dr Berg")
    ann = make_user("client", username="ann", timezone="Asia/Vladivostok")
    start = (utcnow() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    first = make_slot(specialist, starts_at=start)
    make_slot(specialist, starts_at=start + timedelta(hours=2))
    auth.login_as(ann)
    ann_token = token_from_profile(client, "journey script")
    berg_token = make_token(specialist)
    base = live_server.url + "/api/v1"

    def caller(token):
        """A script holding this token."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        return lambda method, path, **kwargs: session.request(method, base + path, timeout=10, **kwargs)

    as_ann, as_berg = caller(ann_token), caller(berg_token)

    # The client lists the free slots: the specialist's two, soonest first, in the client's zone.
    listed = as_ann("GET", "/slots", params={"specialist": "berg"})
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [item["id"] for item in items][:1] == [first.id]
    assert items[0]["starts_at"].endswith("+10:00") and items[0]["specialist"]["username"] == "dr.berg"
    assert items[0]["my_request"] is None

    # … requests the first one, and sees it pending.
    requested = as_ann("POST", f"/slots/{first.id}/request", json={})
    assert requested.status_code == 201, requested.text
    consultation_id = requested.json()["id"]
    assert requested.json()["status"] == "pending"
    mine = as_ann("GET", "/me/consultations").json()["items"]
    assert [(c["id"], c["status"]) for c in mine] == [(consultation_id, "pending")]

    # The specialist finds the request among the pending ones and accepts it.
    pending = as_berg("GET", "/me/consultations", params={"status": "pending"}).json()["items"]
    assert [(c["id"], c["client"]["username"]) for c in pending] == [(consultation_id, "ann")]
    accepted = as_berg("POST", f"/consultations/{consultation_id}/accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.json()["starts_at"].endswith(("+01:00", "+02:00"))

    # The client sees it accepted, then cancels: found another specialist.
    mine = as_ann("GET", "/me/consultations").json()["items"]
    assert [(c["id"], c["status"], c["can_cancel"]) for c in mine] == [(consultation_id, "accepted", True)]
    cancelled = as_ann("POST", f"/consultations/{consultation_id}/cancel", json={"reason": "Found_another_specialist"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancel_reason"] == "Found_another_specialist"
    assert as_ann("GET", "/me/consultations").json()["items"] == []  # upcoming: pending and accepted ones only
    mine = as_ann("GET", "/me/consultations", params={"tab": "past"}).json()["items"]
    assert [(c["id"], c["status"], c["can_cancel"]) for c in mine] == [(consultation_id, "cancelled", False)]

    # The database agrees, and the slot is offered again.
    _db.session.expire_all()
    row = _db.session.get(Consultation, consultation_id)
    assert (row.status, row.cancel_reason, row.client_id) == ("cancelled", "Found_another_specialist", ann.id)
    assert first.id in [item["id"] for item in as_ann("GET", "/slots").json()["items"]]
    assert _db.session.query(ApiToken).filter_by(user_id=ann.id).one().last_used_at is not None

    # The same emails as from the pages: to the specialist the new request and the cancellation, to the client
    # the acceptance (with the invitation) and the confirmation of her cancellation.
    to_berg = mail.wait_for(2, to=specialist.email)
    to_ann = mail.wait_for(2, to=ann.email)
    assert sorted(subject_of(m) for m in to_berg) == [
        "@ann cancelled a consultation",
        "New consultation request from @ann",
    ]
    assert sorted(subject_of(m) for m in to_ann) == [
        "Dr Berg @dr.berg accepted your consultation request",
        "You cancelled your consultation with Dr Berg @dr.berg",
    ]
    invitation = next(m for m in to_ann if "accepted" in subject_of(m))
    assert subject_of(invitation) == "Dr Berg @dr.berg accepted your consultation request"
    assert "ann" in body_of(invitation) and "dr.berg" in body_of(invitation)
    assert any(part.get_content_type() == "text/calendar" for part in invitation.walk())
    cancel_email = next(m for m in to_berg if "cancelled" in subject_of(m))
    assert "Found another specialist" in body_of(cancel_email)
