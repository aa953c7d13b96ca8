"""Both languages complete: every string of every page, email and message has its Russian."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from portal.i18n import force_locale, time_tag
from portal.words import status_labels

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "portal" / "translations" / "ru" / "LC_MESSAGES" / "messages.po"


def _extracted() -> set:
    """Every translatable string of the portal's code and templates, found as `make babel-update` finds them."""
    method_map = [
        ("portal/**.py", "python"),
        ("jobs/**.py", "python"),
        ("portal/templates/**.html", "jinja2"),
        ("portal/templates/**.txt", "jinja2"),
    ]
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}
    found = set()
    for _, _, message, _, context in extract_from_dir(str(ROOT), method_map, keywords=keywords):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


def _catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle)


def test_every_translatable_string_has_a_russian_translation():
    """One catalogue: a string added to a template or module without its Russian fails here."""
    catalog = _catalog()
    translated = {
        (m.context, m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and all(m.string if isinstance(m.string, tuple) else (m.string,)) and not m.fuzzy
    }
    found = _extracted()
    assert len(found) > 400  # the extraction really read the tree
    assert sorted(found - translated, key=str) == []


def test_translations_keep_their_placeholders():
    catalog = _catalog()
    assert "nplurals=3" in catalog.plural_forms

    def placeholders(text: str) -> list[str]:
        return sorted(set(re.findall(r"%\(\w+\)[sd]", text)))

    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = placeholders(" ".join(ids))
        for string in strings:
            # A Russian plural form may leave out %(num)d ("одна заявка"), never a name the English uses.
            assert set(placeholders(string)) <= set(wanted), message.id
            assert set(wanted) - {"%(num)d", "%(n)d", "%(count)d"} <= set(placeholders(string)), message.id


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


def test_remembered_formatting_never_crosses_languages_or_zones(app):
    """Tags, badges and durations are remembered per value, but each language and zone has its own."""
    from flask import g

    from portal.i18n import day_tag, minutes_text, time_span
    from portal.words import status_badge

    start, end = datetime(2026, 11, 27, 10, 0, tzinfo=UTC), datetime(2026, 11, 27, 10, 45, tzinfo=UTC)
    shown = {}
    for locale in ("en", "ru", "en"):
        for zone in ("UTC", "Asia/Tokyo"):
            with app.test_request_context():
                g.locale, g.timezone = locale, zone
                made = (status_badge("accepted"), day_tag(start.date()), minutes_text(45), time_span(start, end))
                assert shown.setdefault((locale, zone), made) == made  # the second time: the same, remembered
    assert shown["en", "UTC"] == (
        '<span class="status status-accepted">Accepted</span>',
        '<time datetime="2026-11-27">Fri, 27 Nov 2026</time>',
        "45 min",
        '<time datetime="2026-11-27T10:00+00:00">Fri, 27 Nov 2026, 10:00</time>–'
        '<time datetime="2026-11-27T10:45+00:00">10:45</time>',
    )
    assert shown["ru", "UTC"][:3] == (
        '<span class="status status-accepted">Принята</span>',
        '<time datetime="2026-11-27">пт, 27 нояб. 2026</time>',
        "45 мин",
    )
    assert shown["en", "Asia/Tokyo"][3] == (
        '<time datetime="2026-11-27T19:00+09:00">Fri, 27 Nov 2026, 19:00</time>–'
        '<time datetime="2026-11-27T19:45+09:00">19:45</time>'
    )


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


def test_the_portal_switches_language_only_through_its_own_force_locale():
    """portal.i18n.force_locale and refresh keep the request's remembered language right; Flask-Babel's own would
    leave it behind, so no module of the portal or its jobs calls them."""
    root = Path(__file__).resolve().parents[2]
    found = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("portal", "jobs")
        for path in sorted((root / folder).rglob("*.py"))
        if path.name != "i18n.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"flask_babel\b.*\b(force_locale|refresh)\b", line)
    ]
    assert found == []
