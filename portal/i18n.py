"""Language and time zone of each request, and the filters that show times to people."""

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import format_date, format_datetime, format_time
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from markupsafe import Markup, escape

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
    app.jinja_env.filters["dt"] = time_tag
    app.jinja_env.filters["day"] = day_tag
    app.jinja_env.filters["minutes"] = minutes_text
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["status_labels"] = status_labels


_ZONES: list[str] | None = None


def timezone_names() -> list[str]:
    """IANA zone names for the time zone select, sorted, computed once."""
    global _ZONES
    if _ZONES is None:
        _ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
        _ZONES.insert(0, "UTC")
    return _ZONES


def is_timezone(name: str) -> bool:
    return name in set(timezone_names())


def to_local(value: datetime, tz: str | None = None) -> datetime:
    zone = ZoneInfo(tz) if tz else get_timezone()
    return value.astimezone(zone)


def iso_minutes(local: datetime) -> str:
    """ISO 8601 to the minute with the offset, e.g. 2026-11-27T20:00+10:00."""
    return local.isoformat(timespec="minutes")


def time_tag(value: datetime | None, fmt: str = "full") -> Markup:
    """<time datetime="…"> with the date and 24-hour time in the viewer's zone and language."""
    if value is None:
        return Markup("")
    local = to_local(value)
    locale = get_locale()
    if fmt == "time":
        text = local.strftime("%H:%M")
    elif fmt == "date":
        text = format_date(local, "medium", locale=locale)
    else:
        text = format_date(local, "EEE, d MMM y", locale=locale) + ", " + local.strftime("%H:%M")
    return Markup('<time datetime="{}">{}</time>').format(iso_minutes(local), escape(text))


def day_tag(value) -> Markup:
    """A calendar date (no time) as <time datetime="YYYY-MM-DD">."""
    return Markup('<time datetime="{}">{}</time>').format(
        value.isoformat(), format_date(value, "EEE, d MMM", locale=get_locale())
    )


def minutes_text(minutes: int) -> str:
    from flask_babel import gettext

    return gettext("%(n)d min", n=minutes)


def format_for_recipient(value: datetime, tz: str, locale: str) -> tuple[str, str]:
    """(ISO with offset, readable text) of an instant in the recipient's zone and language."""
    local = value.astimezone(ZoneInfo(tz))
    text = format_date(local, "EEEE, d MMMM y", locale=locale) + ", " + local.strftime("%H:%M")
    return iso_minutes(local), f"{text} ({tz})"


__all__ = ["format_datetime", "format_time", "timezone_names", "to_local"]


def status_labels() -> dict:
    """The status words people see, in the current language (SPEC §10); built once per request and language."""
    from flask import has_app_context

    locale = str(get_locale())
    cache = g.setdefault("status_labels", {}) if has_app_context() else {}
    if locale not in cache:
        cache[locale] = _build_status_labels()
    return cache[locale]


def _build_status_labels() -> dict:
    from flask_babel import gettext as _

    return {
        "pending": _("Pending"),
        "accepted": _("Accepted"),
        "rejected": _("Rejected"),
        "cancelled": _("Cancelled"),
        "cancelled_by_specialist": _("Cancelled by specialist"),
        "expired": _("Expired"),
        "free": _("free"),
        "booked": _("booked"),
    }
