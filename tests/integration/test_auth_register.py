"""Registration: good input creates one unconfirmed account and one email; bad input saves nothing; a taken
address answers like a new one and its owner is emailed."""

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import AuthToken, OutboxEmail, User
from tests.factories import make_user
from tests.support.auth import (
    GOOD_PASSWORD,
    field_error,
    form_alert,
    isolated_client,
    register,
    registration,
    row_counts,
)
from tests.support.database import lock_waiters
from tests.support.mail import body_of, subject_of
from tests.support.wait import wait_until
from tests.support.web import CSRF_RE

NOTHING = {"users": 0, "tokens": 0, "emails": 0}
LONG = "x" * 10_000


@pytest.fixture
def client(app):
    """Requests isolated from each other and from the test, like a real browser's."""
    return isolated_client(app)


def test_register_page_offers_every_field(client):
    html = client.get("/register").get_data(as_text=True)
    for label in ("Username", "Email", "Password", "Confirm password", "Role", "Time zone", "Language", "Specialty"):
        assert f">{label}</label>" in html
    assert '<option selected value="client">Client</option>' in html
    assert '<option value="specialist">Specialist</option>' in html
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in html
    assert '<option selected value="UTC">UTC</option>' in html  # DEFAULT_TIMEZONE until script picks the browser's
    assert 'value="Create account"' in html
    assert 'aria-describedby="None"' not in html


def test_register_preselects_role_and_browser_language(client):
    html = client.get("/register?role=specialist", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert '<option selected value="specialist">' in html
    assert '<option selected value="ru">' in html


def test_client_registration_creates_one_unconfirmed_account_and_one_email(client, db):
    response = register(client, username="Maria_K", email="Maria@Example.com", timezone="Asia/Tokyo", language="ru")
    assert response.status_code == 302
    assert response.headers["Location"] == "/register/done"
    page = client.get("/register/done").get_data(as_text=True)
    assert "Проверьте почту" in page  # the new account's language from now on

    assert row_counts() == {"users": 1, "tokens": 1, "emails": 1}
    user = db.session.scalars(select(User)).one()
    assert (user.username, user.email, user.role) == ("Maria_K", "Maria@example.com", "client")
    assert (user.timezone, user.locale, user.confirmed_at, user.is_blocked) == ("Asia/Tokyo", "ru", None, False)
    assert user.specialty is None and user.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in user.password_hash

    email = db.session.scalars(select(OutboxEmail)).one()
    assert (email.kind, email.recipient, email.state) == ("confirm_account", "Maria@example.com", "queued")
    assert "Maria_K" in email.body_text and "http://portal.test/confirm/" in email.body_text
    assert GOOD_PASSWORD not in email.body_text and GOOD_PASSWORD not in email.subject
    assert email.subject == "Подтвердите адрес электронной почты"  # the recipient's language
    token = db.session.scalars(select(AuthToken)).one()
    assert token.token_hash not in email.body_text  # only the hash is stored


def test_specialist_registration_keeps_specialty_and_bio(client, db):
    response = register(
        client,
        username="dr.lee",
        email="lee@example.com",
        role="specialist",
        specialty="Psychologist",
        bio="Couples therapy.",
        display_name="Dr. Lee",
    )
    assert response.status_code == 302
    user = db.session.scalars(select(User)).one()
    assert (user.role, user.specialty, user.bio, user.display_name) == (
        "specialist",
        "Psychologist",
        "Couples therapy.",
        "Dr. Lee",
    )


def test_client_registration_ignores_specialist_fields(client, db):
    assert register(client, specialty="Lawyer", bio="Hi").status_code == 302
    user = db.session.scalars(select(User)).one()
    assert user.specialty is None and user.bio is None


def test_email_is_stored_in_ascii_form_for_international_domains(client, db):
    assert register(client, email="anna@пример.рф").status_code == 302
    assert db.session.scalars(select(User.email)).one() == "anna@xn--e1afmkfd.xn--p1ai"


BAD_INPUT = [
    # (what, overrides, field that shows the error, words of the error)
    ("empty form", {k: "" for k in registration()}, "username", "required"),
    ("empty username", {"username": ""}, "username", "required"),
    ("short username", {"username": "ab"}, "username", "3 to 32 characters"),
    ("10 kB username", {"username": LONG}, "username", "3 to 32 characters"),
    ("Cyrillic username", {"username": "Мария"}, "username", "letters A–Z"),
    ("username with a space", {"username": "maria k"}, "username", "letters A–Z"),
    ("NUL in username", {"username": "mar\x00ia"}, "username", ""),
    ("emoji username", {"username": "🙂🙂🙂"}, "username", "letters A–Z"),
    ("empty email", {"email": ""}, "email", ""),
    ("malformed email", {"email": "maria.example.com"}, "email", "valid email"),
    ("email without domain dot", {"email": "maria@localhost"}, "email", "valid email"),
    ("10 kB email", {"email": LONG + "@example.com"}, "email", "254"),
    ("NUL in email", {"email": "maria\x00@example.com"}, "email", ""),
    ("mismatched passwords", {"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD + "x"}, "confirm", "do not match"),
    ("short password", {"password": "Ab1-x"}, "password", "at least 8"),
    ("10 kB password", {"password": LONG}, "password", "at most 128"),
    ("common password", {"password": "password"}, "password", "too common"),
    ("common digits", {"password": "12345678"}, "password", "too common"),
    ("common qwerty", {"password": "qwerty123"}, "password", "too common"),
    ("guessable password", {"password": "maria2024"}, "password", "easy to guess"),
    (
        "password = username",
        {"username": "Blue-Canyon-Lantern", "password": "blue-canyon-lantern"},
        "password",
        "same as",
    ),
    ("NUL in password", {"password": "plum-orbit\x00-canvas-71"}, "password", "control characters"),
    ("unknown time zone", {"timezone": "Mars/Olympus_Mons"}, "timezone", "time zone from the list"),
    ("empty time zone", {"timezone": ""}, "timezone", "time zone from the list"),
    ("deprecated time zone alias", {"timezone": "Africa/Asmera"}, "timezone", "time zone from the list"),
    ("US/ alias", {"timezone": "US/Eastern"}, "timezone", "time zone from the list"),
    ("10 kB time zone", {"timezone": LONG}, "timezone", "time zone from the list"),
    ("unknown language", {"language": "de"}, "language", "valid choice"),
    ("admin role", {"role": "admin"}, "role", "valid choice"),
    ("empty role", {"role": ""}, "role", "valid choice"),
    ("specialist without specialty", {"role": "specialist", "specialty": ""}, "specialty", "need a specialty"),
    ("10 kB specialty", {"role": "specialist", "specialty": LONG}, "specialty", "100"),
    ("10 kB bio", {"role": "specialist", "specialty": "Lawyer", "bio": LONG}, "bio", "1000"),
    ("10 kB display name", {"display_name": LONG}, "display_name", "64"),
    ("control character in bio", {"role": "specialist", "specialty": "Lawyer", "bio": "a\x07b"}, "bio", "control"),
]


@pytest.mark.parametrize(("overrides", "field", "words"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_registration_shows_the_form_with_the_error_at_the_field_and_saves_nothing(client, overrides, field, words):
    response = register(client, **overrides)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:500]
    error = field_error(html, field)
    assert error, f"no error next to {field}: {html[:3000]}"
    assert words.lower() in error.lower()
    assert f'aria-describedby="{field}-' in html or f'aria-describedby="{field}-hint {field}-error"' in html
    assert 'aria-invalid="true"' in html
    assert row_counts() == NOTHING


def test_a_field_error_keeps_what_was_typed_except_passwords(client):
    html = register(client, username="ab", email="maria@example.com").get_data(as_text=True)
    assert 'value="maria@example.com"' in html
    assert GOOD_PASSWORD not in html


def test_a_taken_username_is_refused_next_to_username_ignoring_case(client):
    make_user(username="maria_k", email="maria@example.com")
    before = row_counts()
    response = register(client, username="MARIA_k", email="other@example.com")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "username") == "This username is taken."
    assert row_counts() == before


def answer(client, response) -> tuple:
    """What the visitor sees after registering: status, target and the page it leads to (without its token)."""
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return response.status_code, response.headers["Location"], CSRF_RE.sub("csrf", page)


def test_a_taken_address_answers_like_a_new_one_creates_nothing_and_emails_its_owner(app, db, mail, rq_worker):
    owner = make_user(username="maria_k", email="maria@example.com", locale="ru")
    newcomer, visitor = isolated_client(app), isolated_client(app)
    fresh = answer(newcomer, register(newcomer, username="newcomer", email="newcomer@example.com"))
    before = row_counts()
    taken = answer(visitor, register(visitor, username="intruder_x", email="MARIA@EXAMPLE.COM"))
    assert taken == fresh and "Check your email" in taken[2]
    assert row_counts() == {**before, "emails": before["emails"] + 1}  # no account, no link: one email
    assert db.session.scalars(select(User.username).order_by(User.id)).all() == ["maria_k", "newcomer"]

    (message,) = mail.wait_for(1, to="maria@example.com")
    body = body_of(message)
    assert subject_of(message) == "Кто-то пытался зарегистрироваться с вашим адресом электронной почты"
    assert "maria_k" in body and "intruder_x" not in body  # the owner's own username, nothing of the visitor's
    assert {"http://portal.test/login", "http://portal.test/reset-password"} <= set(body.splitlines())
    assert "/confirm/" not in body
    email = db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == owner.email)).one()
    assert email.kind == "registration_attempt"


def test_a_blocked_owner_is_not_emailed_but_the_answer_is_the_same(client, db):
    make_user(username="maria_k", email="maria@example.com", blocked=True)
    before = row_counts()
    response = register(client, username="someone", email="maria@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/register/done"
    assert row_counts() == before


def test_an_address_taken_by_a_concurrent_registration_answers_like_a_new_one(app, db):
    """The rival's row is written but not committed while this registration checks, so it inserts and waits."""
    with db.engine.connect() as rival:
        transaction = rival.begin()
        with Session(bind=rival) as session:
            session.add(User(username="first", email="maria@example.com", password_hash="x", role="client"))
            session.flush()
            outcome = {}
            visitor = isolated_client(app)
            thread = threading.Thread(target=lambda: outcome.update(response=register(visitor, username="second")))
            thread.start()
            assert wait_until(lock_waiters, timeout=20, interval=0.05), (
                "the registration never waited for the rival's row"
            )
            transaction.commit()
            thread.join(30)
    response = outcome["response"]
    assert response.status_code == 302 and response.headers["Location"] == "/register/done"
    assert db.session.scalars(select(User.username)).all() == ["first"]
    email = db.session.scalars(select(OutboxEmail)).one()
    assert (email.kind, email.recipient) == ("registration_attempt", "maria@example.com")


def test_registration_errors_are_in_russian_for_a_russian_browser(client):
    client.get("/", headers={"Accept-Language": "ru"})
    response = client.submit("/register", registration(password="password"), headers={"Accept-Language": "ru"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "password") == "Это слишком распространённый пароль. Выберите менее предсказуемый."
    assert ">Имя пользователя</label>" in html


def test_logged_in_users_are_sent_home_from_register(client, auth):
    auth.login_as(make_user("specialist"))
    response = client.get("/register")
    assert response.status_code == 302 and response.headers["Location"] == "/specialist/calendar"


def test_registrations_from_one_address_are_throttled(client, app):
    limit = int(app.config["REGISTER_LIMIT"].split()[0])
    for n in range(limit):
        assert register(client, username=f"user{n}", email=f"user{n}@example.com").status_code == 302
    before = row_counts()
    response = register(client, username="onemore", email="onemore@example.com")
    assert response.status_code == 429
    assert "Too many requests" in form_alert(response.get_data(as_text=True))
    assert row_counts() == before
    # Another address is not affected.
    other = client.submit(
        "/register",
        registration(username="fromafar", email="far@example.com"),
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert other.status_code == 302


def test_a_megabyte_of_form_data_is_refused_politely(client):
    response = register(client, role="specialist", specialty="Lawyer", bio="x" * 1_000_000)
    assert response.status_code == 422
    assert "1000" in field_error(response.get_data(as_text=True), "bio")
    assert row_counts() == NOTHING
