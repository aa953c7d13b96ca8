"""The account emails in both languages: who they are for, the link, the time in the recipient's zone; and text
that people wrote, set apart as a quotation wherever an email carries it."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal.i18n import force_locale
from portal.models import OutboxEmail
from portal.outbox import queue_email
from tests.factories import make_consultation, make_slot, make_user

WHEN = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def render(app, db, kind, locale, **context):
    user = make_user(username="boris", email="boris@example.com", locale=locale, timezone="Asia/Vladivostok")
    with app.test_request_context():
        row = queue_email(user, kind, **context)
        db.session.commit()
    return row


@pytest.mark.parametrize(
    ("kind", "locale", "context", "subject", "phrases"),
    [
        (
            "confirm_account",
            "en",
            {"link": "/confirm/abc"},
            "Confirm your email address",
            ["Hello boris,", "Your username is: boris", "http://portal.test/confirm/abc", "valid for 48 hours"],
        ),
        (
            "confirm_account",
            "ru",
            {"link": "/confirm/abc"},
            "Подтвердите адрес электронной почты",
            ["Здравствуйте, boris!", "Ваше имя пользователя: boris", "http://portal.test/confirm/abc", "48 часов"],
        ),
        (
            "reset_password",
            "en",
            {"link": "/reset-password/xyz"},
            "Reset your password",
            ["Hello boris,", "http://portal.test/reset-password/xyz", "valid for one hour"],
        ),
        (
            "reset_password",
            "ru",
            {"link": "/reset-password/xyz"},
            "Сброс пароля",
            ["Здравствуйте, boris!", "http://portal.test/reset-password/xyz", "один час"],
        ),
        (
            "registration_attempt",
            "en",
            {"login_link": "/login", "reset_link": "/reset-password"},
            "Someone tried to register with your email address",
            [
                "Hello boris,",
                "It already belongs to your account boris, so no new account was created.",
                "log in with your username or this email address:\nhttp://portal.test/login\n",
                "choose a new one here:\nhttp://portal.test/reset-password\n",
            ],
        ),
        (
            "registration_attempt",
            "ru",
            {"login_link": "/login", "reset_link": "/reset-password"},
            "Кто-то пытался зарегистрироваться с вашим адресом электронной почты",
            [
                "Здравствуйте, boris!",
                "Он уже принадлежит вашему аккаунту boris, поэтому новый аккаунт не создан.",
                "войдите по имени пользователя или по этому адресу:\nhttp://portal.test/login\n",
                "задайте новый здесь:\nhttp://portal.test/reset-password\n",
            ],
        ),
        (
            "password_changed",
            "en",
            {"changed_at": WHEN},
            "Your password was changed",
            [
                "account boris",
                "Fri, 27 Nov 2026, 19:30 (Asia/Vladivostok)",
                "http://portal.test/reset-password",
            ],
        ),
        (
            "password_changed",
            "ru",
            {"changed_at": WHEN},
            "Ваш пароль изменён",
            [
                "аккаунта boris",
                "изменён: пт, 27 нояб. 2026, 19:30 (Asia/Vladivostok)",
                "http://portal.test/reset-password",
            ],
        ),
    ],
)
def test_account_emails(app, db, kind, locale, context, subject, phrases):
    row = render(app, db, kind, locale, **context)
    assert row.subject == subject
    assert (row.recipient, row.kind, row.state) == ("boris@example.com", kind, "queued")
    for phrase in phrases:
        assert phrase in row.body_text, row.body_text
    footer = "Consultation Portal" if locale == "en" else "Портал консультаций"
    assert row.body_text.rstrip().endswith(f"-- \n{footer}\nhttp://portal.test/")
    assert "{{" not in row.body_text and "%(" not in row.body_text


# ------------------------------------------------------------------------------------ text people wrote

LURE = "Your consultation is confirmed. Log in at http://evil.example/login"
MULTILINE = "Sorry.\r\nReset your password here:\nhttp://evil.example/reset\n\n-- \nConsultation Portal"


def quote_lines(text: str) -> list[str]:
    return [f"> {line}" if line else ">" for line in text.splitlines()]


def assert_quoted(body: str, heading: str, text: str) -> None:
    """The text stands after its heading, every line of it behind "> ", and its link nowhere else."""
    lines = body.splitlines()
    start = lines.index(heading)
    assert lines[start + 1 : start + 1 + len(text.splitlines())] == quote_lines(text), body
    assert all(line.startswith("> ") for line in lines if "evil.example" in line), body


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_the_quote_sets_every_line_apart_under_their_message(app, locale):
    quoted = app.jinja_env.get_template("email/_quote.txt").module.quoted
    with app.test_request_context(), force_locale(locale):
        rendered = str(quoted("one\r\ntwo\u2028three\n\nfour"))
    heading = {"en": "Their message:", "ru": "Что они написали:"}[locale]
    assert rendered.splitlines() == [heading, "> one", "> two", "> three", ">", "> four"]


def emails_of(db, kind: str) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == kind)))


@pytest.mark.parametrize(("locale", "heading"), [("en", "Their message:"), ("ru", "Что они написали:")])
def test_a_rejection_reason_is_quoted(client, auth, db, locale, heading):
    specialist = make_user("specialist", username="dr_who")
    patient = make_user("client", username="amy", locale=locale)
    consultation = make_consultation(make_slot(specialist), patient)
    auth.login_as(specialist)
    page = "/specialist/consultations"
    response = client.submit(f"{page}/{consultation.id}/reject", {"reason": LURE, "next": page}, from_url=page)
    assert response.status_code == 303
    (email,) = emails_of(db, "request_rejected")
    assert email.recipient == patient.email
    assert_quoted(email.body_text, heading, LURE)


def test_a_cancellation_comment_is_quoted_line_by_line(client, auth, db):
    specialist = make_user("specialist", username="dr_who", locale="ru")
    patient = make_user("client", username="amy")
    consultation = make_consultation(make_slot(specialist), patient, "accepted")
    auth.login_as(patient)
    url = f"/client/consultations/{consultation.id}/cancel"
    assert client.submit(url, {"reason": "Other", "comment": MULTILINE}).status_code == 303
    (email,) = emails_of(db, "request_cancelled")
    assert email.recipient == specialist.email
    assert_quoted(email.body_text, "Что они написали:", MULTILINE.replace("\r\n", "\n"))
    assert "Причина: Другое" in email.body_text  # the chosen reason is the portal's own word: not quoted


def test_a_slot_note_is_quoted_in_the_request_email(client, auth, db):
    specialist = make_user("specialist", username="dr_who")
    slot = make_slot(specialist, note=LURE)
    auth.login_as(make_user("client", username="amy"))
    assert client.submit(f"/client/slots/{slot.id}/request", {}, from_url="/client/slots").status_code in (302, 303)
    (email,) = emails_of(db, "new_request")
    assert_quoted(email.body_text, "Note from @dr_who:", LURE)
