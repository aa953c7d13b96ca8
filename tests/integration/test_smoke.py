from portal.models import User
from tests.factories import make_user


def test_home_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="en">' in response.get_data(as_text=True)


def test_login_reaches_role_home(client, auth, db):
    user = make_user("client")
    response = auth.login_as(user)
    assert response.headers["Location"].endswith("/client/slots")
    assert db.session.get(User, user.id).username == user.username
