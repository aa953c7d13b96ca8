"""Language and time zone of each request, and the one way dates, times and time zones are shown to people."""

from contextlib import contextmanager
from datetime import date, datetime, time
from functools import cache, lru_cache, wraps
from importlib.resources import files
from typing import NamedTuple
from zoneinfo import ZoneInfo, available_timezones

import flask_babel
from babel.dates import format_interval
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import get_locale, get_timezone, get_translations
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

from portal.extensions import babel

LANGUAGES = {"en": "English", "ru": "Русский"}


def select_locale() -> str:
    """Profile first, then the footer switch, then the browser's Accept-Language."""
    if "locale" in g:
        return g.locale
    if not has_request_context():  # the command line, a job
        return current_app.config["DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or current_app.config["DEFAULT_LOCALE"]


def select_timezone() -> str:
    """The logged-in user's zone, else DEFAULT_TIMEZONE."""
    if "timezone" in g:
        return g.timezone
    if not has_request_context():
        return current_app.config["DEFAULT_TIMEZONE"]
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["DEFAULT_TIMEZONE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    babel.date_formats.update(DATE_FORMATS)
    # Templates' _(), gettext and ngettext as Jinja's "newstyle" gettext defines them (the text is
    # trusted, the variables escaped, always formatted with %), but finding the catalogue once per request
    # and language and skipping Jinja's three nested context calls: 14 µs per call before, about 2 after.
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext, ngettext=template_ngettext)
    app.jinja_env.filters["dt"] = time_tag
    app.jinja_env.filters["day"] = day_tag
    app.jinja_env.filters["minutes"] = minutes_text
    app.jinja_env.filters["zone"] = zone_label
    app.jinja_env.globals["date_range"] = date_range_text
    app.jinja_env.globals["time_span"] = time_span
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["get_locale"] = get_locale


# The zones people choose from: tzdata's own tables of zones by country (zone.tab, one or more per country, and
# zone1970.tab), which name only canonical zones — no backward-compatible aliases such as Africa/Asmera,
# America/Argentina/ComodRivadavia, US/Eastern or Etc/GMT+3 — plus UTC.
ZONE_TABLES = ("zone.tab", "zone1970.tab")


@cache
def timezone_names() -> tuple[str, ...]:
    """The curated IANA zone names of the time zone select: UTC first, then the others sorted."""
    tables = files("tzdata").joinpath("zoneinfo")
    names = set()
    for table in ZONE_TABLES:
        for line in tables.joinpath(table).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                names.add(line.split("\t")[2])
    return ("UTC", *sorted(names & available_timezones()))


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(timezone_names())


def is_timezone(name: str) -> bool:
    """Whether `name` is one of the zones people may choose."""
    return name in _zone_set()


def is_known_timezone(name: str) -> bool:
    """Whether `name` is any zone this system knows (an older account may hold one no longer offered)."""
    return name in _zone_set() or name in available_timezones()


@cache
def zone_aliases() -> dict[str, str]:
    """Older names of the offered zones, e.g. Asia/Calcutta → Asia/Kolkata, which some browsers still report.

    tzdata ships each backward-compatible link as a copy of its zone's file: equal files name the same zone.
    """
    root = files("tzdata").joinpath("zoneinfo")

    def content(name: str) -> bytes | None:
        try:
            return root.joinpath(*name.split("/")).read_bytes()
        except OSError:
            return None

    offered = timezone_names()
    canonical: dict[bytes | None, str] = {}
    for name in offered:
        canonical.setdefault(content(name), name)
    canonical.pop(None, None)
    others = sorted(z for z in available_timezones() - set(offered) if "/" in z and not z.startswith("Etc/"))
    return {name: canonical[data] for name in others if (data := content(name)) in canonical}


def zone_label(name: str) -> str:
    """How a time zone is named to people, everywhere: "America/New York" (IANA name, spaces for underscores)."""
    return name.replace("_", " ")


def zone_region(name: str) -> str:
    """The region a zone is listed under in the select: the first part of its name (UTC: itself)."""
    return name.partition("/")[0]


class Language(NamedTuple):
    """What this request shows people in: its language's code, its catalogue and the viewer's zone."""

    code: str
    catalogue: object
    zone: ZoneInfo


_LANGUAGE = "portal_language"  # on g: the request's Language, until force_locale or refresh changes it


def language() -> Language:
    """The current language (code, catalogue) and the viewer's zone, found once per request and remembered on `g`.

    Pages make 40–100 translation calls and show dozens of times; Flask-Babel finds its request context and
    settings again on each of them. force_locale and refresh below forget what is remembered.
    """
    try:
        found = g.get(_LANGUAGE)
    except RuntimeError:  # no request, no app: untranslated text (Flask-Babel's null catalogue), UTC
        return Language(str(get_locale()), get_translations(), ZoneInfo("UTC"))
    if found is None:
        found = Language(str(get_locale()), get_translations(), ZoneInfo(str(get_timezone())))
        setattr(g, _LANGUAGE, found)
    return found


@contextmanager
def force_locale(locale: str):
    """flask_babel.force_locale (an email in its recipient's language), the remembered language following it."""
    saved = g.pop(_LANGUAGE, None) if has_app_context() else None
    try:
        with flask_babel.force_locale(locale):
            yield
    finally:
        if has_app_context():
            g.pop(_LANGUAGE, None)
            if saved is not None:
                setattr(g, _LANGUAGE, saved)


def refresh() -> None:
    """flask_babel.refresh (the language or zone chosen anew), forgetting the remembered one."""
    flask_babel.refresh()
    if has_app_context():
        g.pop(_LANGUAGE, None)


def translations():
    """The current catalogue, as flask_babel.get_translations() gives it, found once per request and language."""
    return language().catalogue


def gettext(string: str, **variables) -> str:
    """flask_babel.gettext through the remembered catalogue."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """flask_babel.ngettext through the remembered catalogue."""
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def pgettext(context: str, string: str, **variables) -> str:
    """flask_babel.pgettext through the remembered catalogue."""
    text = translations().upgettext(context, string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables) -> LazyString:
    """Translated when used (form labels, messages defined at import): flask_babel's LazyString, our gettext."""
    return LazyString(gettext, string, **variables)


def lazy_pgettext(context: str, string: str, **variables) -> LazyString:
    return LazyString(pgettext, context, string, **variables)


@pass_eval_context
def template_gettext(eval_ctx, string: str, **variables):
    text = translations().ugettext(string)
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 - a translation is trusted text, as in Jinja's own gettext
    # "%" formatting of a text without "%" and no variables is the text itself: skip it.
    return text % variables if variables or "%" in text else text


@pass_eval_context
def template_ngettext(eval_ctx, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    text = translations().ungettext(singular, plural, num)
    return (Markup(text) if eval_ctx.autoescape else text) % variables  # noqa: S704 - as above


def remembered(maxsize: int):
    """Remember a formatting function's results per arguments and current language: a page shows the same times,
    durations and badges on every row and every request. Only for functions of their arguments and the language
    (the zone, where it matters, is one of the arguments): pure formatting, never data."""

    def decorate(function):
        @lru_cache(maxsize=maxsize)
        def in_language(locale: str, *args):
            return function(*args)

        @wraps(function)
        def current(*args):
            return in_language(language().code, *args)

        return current

    return decorate


# The one format of each kind, for every date and time shown to people: pages, emails, messages. Flask-Babel's
# named formats, so format_datetime(value) and friends use them; CLDR patterns, 24-hour times (SPEC §4).
DATE_FORMATS = {"datetime": "EEE, d MMM y, HH:mm", "date": "EEE, d MMM y", "time": "HH:mm"}


def to_local(value: datetime, tz: str | None = None) -> datetime:
    """An instant in the zone `tz`, else in the viewer's (the zone Flask-Babel selected for this request)."""
    return value.astimezone(ZoneInfo(tz) if tz else language().zone)


def when_text(value: datetime | date | time, kind: str = "datetime", tz: str | None = None) -> str:
    """A date-time, date or time in words, in the current language: `kind` is one of DATE_FORMATS' names.

    An instant is shown in the viewer's zone (or `tz`); a calendar date or a wall-clock time as it is.
    """
    if isinstance(value, datetime):
        value = to_local(value, tz).replace(tzinfo=None)  # the wall-clock reading is all the formats show
    return _formatted(value, kind, language().code)


_FORMATTERS = {
    "datetime": flask_babel.format_datetime,
    "date": flask_babel.format_date,
    "time": flask_babel.format_time,
}


@lru_cache(maxsize=8192)
def _formatted(value: datetime | date | time, kind: str, locale: str) -> str:
    """Flask-Babel's formatting with the named format, remembered per wall-clock value and language (`locale`,
    the current one, which Flask-Babel formats in): 25 µs a call, a list page shows fifty, often the same."""
    return _FORMATTERS[kind](value, rebase=False)


# markupsafe's % escapes what goes in.
TIME_TAG = Markup('<time datetime="%s">%s</time>')


def time_tag(value: datetime | None, kind: str = "datetime", tz: str | None = None) -> Markup:
    """<time datetime="…"> with an instant in the viewer's zone (or `tz`) and language, in the named format."""
    if value is None:
        return Markup("")
    viewer = language()
    return _time_tag(value, kind, tz or viewer.zone.key, viewer.code)


@lru_cache(maxsize=8192)
def _time_tag(value: datetime, kind: str, tz: str, locale: str) -> Markup:
    """A time tag remembered per instant, format, zone and language (`locale`, the current one): a list page
    shows dozens, and the same times again on every request."""
    local = value.astimezone(ZoneInfo(tz))
    # ISO 8601 to the minute with the offset, e.g. 2026-11-27T20:00+10:00
    return TIME_TAG % (local.isoformat(timespec="minutes"), _formatted(local.replace(tzinfo=None), kind, locale))


def time_span(
    start: datetime, end: datetime, first: str = "datetime", last: str = "time", tz: str | None = None
) -> Markup:
    """A start and an end as two time tags (formats `first` and `last`) joined by an en dash, in the viewer's
    zone (or `tz`): "Mon, 7 Dec 2026, 09:00–09:45". Remembered whole, as time tags are."""
    viewer = language()
    return _time_span(start, end, first, last, tz or viewer.zone.key, viewer.code)


TIME_SPAN = Markup("%s–%s")


@lru_cache(maxsize=4096)
def _time_span(start: datetime, end: datetime, first: str, last: str, tz: str, locale: str) -> Markup:
    return TIME_SPAN % (_time_tag(start, first, tz, locale), _time_tag(end, last, tz, locale))


@remembered(maxsize=1024)
def day_tag(value: date) -> Markup:
    """A calendar date (no time) as <time datetime="YYYY-MM-DD">, in the date format."""
    return TIME_TAG % (value.isoformat(), when_text(value, "date"))


# The portal's English puts the day before the month ("Mon, 7 Dec"): its ranges read so too.
_RANGE_LOCALE = {"en": "en_GB"}


@lru_cache(maxsize=1024)
def _range_text(first: date, last: date, locale: str) -> str:
    return format_interval(first, last, "yMMMd", locale=_RANGE_LOCALE.get(locale, locale))


def date_range_text(first: date, last: date) -> str:
    """Two days as one range in the viewer's language: "30 Nov – 6 Dec 2026", "7–13 дек. 2026 г."."""
    return _range_text(first, last, language().code)


@remembered(maxsize=256)
def minutes_text(minutes: int) -> str:
    return gettext("%(n)d min", n=minutes)


def format_for_recipient(value: datetime, tz: str) -> str:
    """An instant for an email: the date-time format in the recipient's zone, and that zone's name
    (the recipient's language is the current one: emails are rendered under force_locale)."""
    return f"{when_text(value, tz=tz)} ({zone_label(tz)})"


__all__ = ["timezone_names", "to_local", "when_text", "zone_label"]
