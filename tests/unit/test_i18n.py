"""Both languages complete: every string of the account pages, shared pages and emails has its Russian."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from flask_babel import force_locale

from portal.i18n import time_tag
from portal.words import status_labels

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = sorted((ROOT / "portal" / "translations").glob("*/ru/LC_MESSAGES/messages.po"))
CORE = ROOT / "portal" / "translations" / "core" / "ru" / "LC_MESSAGES" / "messages.po"
# The files whose strings the core catalog carries.
CORE_SOURCES = [
    *sorted((ROOT / "portal" / "blueprints" / "auth").glob("*.py")),
    *sorted((ROOT / "portal" / "blueprints" / "main").glob("*.py")),
    *sorted((ROOT / "portal" / "blueprints" / "feeds").glob("*.py")),
    *[
        ROOT / "portal" / name
        for name in (
            "auth_session.py",
            "outbox/__init__.py",
            "mail.py",
            "errors.py",
            "forms.py",
            "i18n.py",
            "security.py",
            "commands.py",
            "web.py",
            "feeds.py",
            "ics.py",
        )
    ],
    *[ROOT / "portal" / "services" / name for name in ("accounts.py", "tokens.py", "throttle.py")],
    *sorted((ROOT / "portal" / "templates" / "auth").glob("*.html")),
    *sorted((ROOT / "portal" / "templates" / "main").glob("*.html")),
    *sorted((ROOT / "portal" / "templates" / "errors").glob("*.html")),
    *sorted((ROOT / "portal" / "api").glob("*.py")),
    *sorted((ROOT / "portal" / "templates" / "api").glob("*.html")),
    *[ROOT / "portal" / "templates" / name for name in ("base.html", "macros/forms.html", "macros/ui.html")],
    *[
        ROOT / "portal" / "templates" / "email" / f"{name}.txt"
        for name in ("_footer", "confirm_account", "reset_password", "password_changed")
    ],
]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def _messages(path: Path) -> set[str]:
    method = "python" if path.suffix == ".py" else "jinja2.ext:babel_extract"
    found = set()
    for _, message, _, _ in extract_from_file(method, str(path), keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _translations() -> dict[str, str]:
    merged = {}
    for path in CATALOGS:
        with path.open("rb") as handle:
            for message in read_po(handle):
                if message.id and message.string and not message.fuzzy:
                    merged.setdefault(message.id, message.string)
    return merged


def test_every_string_of_the_core_files_has_a_russian_translation():
    translated = _translations()
    missing = sorted({m for path in CORE_SOURCES for m in _messages(path)} - set(translated))
    assert missing == []


def test_translations_keep_their_placeholders():
    with CORE.open("rb") as handle:
        catalog = read_po(handle)
    assert "nplurals=3" in catalog.plural_forms
    for message in catalog:
        if message.id:
            assert sorted(re.findall(r"%\(\w+\)[sd]", message.id)) == sorted(
                re.findall(r"%\(\w+\)[sd]", message.string)
            ), message.id


STATUS_WORDS = {
    "pending": ("Pending", "Ожидает"),
    "accepted": ("Accepted", "Принята"),
    "rejected": ("Rejected", "Отклонена"),
    "cancelled": ("Cancelled", "Отменена"),
    "cancelled_by_specialist": ("Cancelled by specialist", "Отменена специалистом"),
    "expired": ("Expired", "Истекла"),
    "free": ("free", "свободно"),
    "booked": ("booked", "занято"),
}


@pytest.mark.parametrize(("locale", "index"), [("en", 0), ("ru", 1)])
def test_status_words(app, locale, index):
    with app.test_request_context(), force_locale(locale):
        labels = status_labels()
    assert labels == {key: words[index] for key, words in STATUS_WORDS.items()}


def test_the_blocked_words_are_exact(app):
    with app.test_request_context(), force_locale("ru"):
        from flask_babel import gettext

        assert gettext("Your account is blocked") == "Ваш аккаунт заблокирован"


@pytest.mark.parametrize(
    ("zone", "locale", "html"),
    [
        ("Asia/Vladivostok", "en", '<time datetime="2026-11-27T20:00+10:00">Fri, 27 Nov 2026, 20:00</time>'),
        ("Europe/Moscow", "ru", '<time datetime="2026-11-27T13:00+03:00">пт, 27 нояб. 2026, 13:00</time>'),
        ("America/New_York", "en", '<time datetime="2026-11-27T05:00-05:00">Fri, 27 Nov 2026, 05:00</time>'),
    ],
)
def test_times_are_shown_in_the_viewers_zone_with_the_offset(app, zone, locale, html):
    from flask import g

    with app.test_request_context():
        g.timezone, g.locale = zone, locale
        assert str(time_tag(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))) == html


def test_the_remembered_catalogue_follows_force_locale_and_back(app):
    """Templates find the catalogue once per request and language; force_locale (emails) still switches it."""
    from flask import render_template_string

    from portal.i18n import gettext, minutes_text

    page = "{{ _('Find a slot') }} · {{ 45|minutes }}"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert render_template_string(page) == "Find a slot · 45 min"
        with force_locale("ru"):
            assert render_template_string(page) == "Найти время · 45 мин"
            assert gettext("Your account is blocked") == "Ваш аккаунт заблокирован"
        assert render_template_string(page) == "Find a slot · 45 min"
        assert minutes_text(5) == "5 min"
        with force_locale("ru"):
            assert str(time_tag(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))).endswith(">пт, 27 нояб. 2026, 10:00</time>")
        assert str(time_tag(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))).endswith(">Fri, 27 Nov 2026, 10:00</time>")


def test_template_gettext_escapes_variables_not_the_translation(app):
    """The newstyle-gettext contract: the message is trusted, its variables are escaped, %% stays a per cent."""
    from flask import render_template_string

    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = render_template_string("{{ _('Reason: %(text)s', text=t) }}|{{ _('100%% sure') }}", t="<b>&")
    assert html == "Reason: &lt;b&gt;&amp;|100% sure"


def test_row_url_builds_the_same_urls_as_url_for(app):
    from flask import url_for

    from portal.ids import row_url

    with app.test_request_context():
        for endpoint, param in [
            ("specialist.edit_slot", "slot_id"),
            ("client.request_slot", "slot_id"),
            ("client.cancel", "consultation_id"),
            ("admin.block", "user_id"),
        ]:
            for ident in (1, 42, 2147483647):
                assert row_url(endpoint, param).format(ident) == url_for(endpoint, **{param: ident})
