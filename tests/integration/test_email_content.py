"""The account emails in both languages: who they are for, the link, the time in the recipient's zone."""

from datetime import UTC, datetime

import pytest

from portal.email import queue_email
from tests.factories import make_user

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
                "Friday, 27 November 2026, 19:30 (Asia/Vladivostok)",
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
                "изменён: пятница, 27 ноября 2026, 19:30 (Asia/Vladivostok)",
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
