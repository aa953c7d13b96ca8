"""Who reaches the specialist pages: every route × every kind of visitor."""

import pytest

from tests.factories import make_consultation, make_slot, make_user
from tests.integration.test_specialist_slots import all_emails_delivered

ROUTES = [
    ("get", "/specialist/calendar"),
    ("get", "/specialist/slots"),
    ("get", "/specialist/slots?tab=past"),
    ("get", "/specialist/slots/new"),
    ("get", "/specialist/slots/{slot}/edit"),
    ("get", "/specialist/slots/{slot}/delete"),
    ("get", "/specialist/consultations"),
    ("post", "/specialist/consultations/{consultation}/accept"),
    ("post", "/specialist/consultations/{consultation}/reject"),
]

# (who, expected status of a GET page); POSTs by the owner redirect back after answering.
VISITORS = [("anonymous", 302), ("client", 403), ("admin", 403), ("owner", 200), ("other_specialist", None)]


@pytest.fixture
def world():
    owner = make_user("specialist", username="owner")
    slot = make_slot(owner)
    consultation = make_consultation(slot, make_user("client", username="asker"))
    return {"owner": owner, "slot": slot, "consultation": consultation}


def _visit(client, auth, world, who, method, url):
    users = {
        "client": lambda: make_user("client"),
        "admin": lambda: make_user("admin"),
        "owner": lambda: world["owner"],
        "other_specialist": lambda: make_user("specialist"),
    }
    if who != "anonymous":
        auth.login_as(users[who]())
    url = url.format(slot=world["slot"].id, consultation=world["consultation"].id)
    if method == "get":
        return client.get(url)
    return client.submit(url, {}, from_url="/login" if who == "anonymous" else "/profile")


@pytest.mark.parametrize("method,url", ROUTES)
@pytest.mark.parametrize("who,expected", VISITORS)
def test_route_by_visitor(client, auth, db, world, method, url, who, expected, rq_worker, mail):
    response = _visit(client, auth, world, who, method, url)
    own_object = "{" in url
    if who == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif who == "other_specialist":
        assert response.status_code == (404 if own_object else 200)
    elif who == "owner" and method == "post":
        assert response.status_code == 303
    else:
        assert response.status_code == expected, response.get_data(as_text=True)[:500]
    all_emails_delivered(db, mail)


def test_blocked_specialist_is_refused(client, auth, world, db):
    auth.login_as(world["owner"])
    world["owner"].is_blocked = True
    db.session.commit()
    response = client.get("/specialist/calendar")
    assert response.status_code == 403
    assert "Your account is blocked" in response.get_data(as_text=True)
