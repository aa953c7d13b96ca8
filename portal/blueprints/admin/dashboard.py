"""The admin's home: twelve weeks of figures as bar charts, and the consultations export."""

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import flask_babel
from flask import Response, render_template, stream_with_context
from flask_login import current_user
from markupsafe import Markup

from portal.access import role_required
from portal.blueprints.admin import bp
from portal.blueprints.admin.charts import Chart, Series, bar_chart
from portal.blueprints.admin.export import consultations_csv
from portal.blueprints.admin.forms import ExportForm
from portal.blueprints.admin.insights import CANCELLATIONS, KEEP_SECONDS, Figures, local_midnight, weekly_figures
from portal.cache import remembered
from portal.clock import utcnow
from portal.i18n import gettext as _
from portal.i18n import language, pgettext, when_text
from portal.words import reason_labels


@dataclass(frozen=True)
class WeekName:
    """A dashboard week: its Monday, named under the bars by its day of the month (and the month where one
    begins), and in full in the tables."""

    day: date
    number: str
    month: str
    long: str


def week_names(mondays: list[date]) -> list[WeekName]:
    """The names of the weeks in the current language: 7, "Sep" under the first Monday of September, 7 Sep 2026."""
    starts = [n for n, day in enumerate(mondays) if n == 0 or day.month != mondays[n - 1].month]
    if len(starts) > 1 and starts[1] - starts[0] < 2:
        starts.pop(0)  # the first week's month would run into the next one's
    return [
        WeekName(
            day,
            str(day.day),
            flask_babel.format_date(day, "LLL") if n in starts else "",
            when_text(day, "date"),
        )
        for n, day in enumerate(mondays)
    ]


@dataclass
class ChartView:
    """A chart of the dashboard with the words around it."""

    key: str
    title: str
    note: str
    chart: Chart


def dashboard_charts(figures: Figures) -> list[ChartView]:
    """The four charts of the dashboard, in the current language."""
    # Series are named in the plural ("Accepted" requests), not with the status word of one consultation.
    requests = [
        Series(_("Requests"), figures.series("requests")),
        Series(pgettext("dashboard", "Accepted"), figures.series("accepted")),
        Series(pgettext("dashboard", "Rejected"), figures.series("rejected")),
        Series(pgettext("dashboard", "Expired"), figures.series("expired")),
    ]
    kinds = {**reason_labels(), "cancelled_by_specialist": pgettext("dashboard", "Cancelled by specialist")}
    cancellations = [Series(str(kinds[kind]), figures.series("cancelled", kind)) for kind in CANCELLATIONS]
    roles = {"client": _("Clients"), "specialist": _("Specialists"), "admin": _("Admins")}
    users = [Series(label, figures.series("users", role)) for role, label in roles.items()]
    emails = [Series(_("Failed emails"), figures.series("emails_failed"))]
    return [
        ChartView(
            "requests",
            _("Requests and answers"),
            _(
                "Requests in the week they were made, answers in the week they were given, expired requests in "
                "the week their slot began without an answer."
            ),
            bar_chart(requests),
        ),
        ChartView(
            "cancellations",
            _("Cancellations by reason"),
            _("In the week they were cancelled. “Other” includes cancellations with a comment only."),
            bar_chart(cancellations, stacked=True),
        ),
        ChartView(
            "users",
            _("New users by role"),
            _("Accounts in the week they were registered."),
            bar_chart(users, stacked=True),
        ),
        ChartView(
            "emails",
            _("Failed emails"),
            _("Emails that could not be delivered after every retry, in the week they were written."),
            bar_chart(emails),
        ),
    ]


def _zone() -> ZoneInfo:
    """The admin's time zone: their weeks and days."""
    return ZoneInfo(current_user.timezone)


def _dashboard_page(form: ExportForm, status: int = 200):
    """The dashboard with the export form: empty, proposing the dashboard's twelve weeks, or as the admin
    filled it in, refused, with its errors."""
    zone, now = _zone(), utcnow()
    figures = weekly_figures(now, zone)
    if status == 200:
        form.date_from.data, form.date_to.data = figures.weeks.mondays[0], now.astimezone(zone).date()
    return render_template("admin/dashboard.html", form=form, charts=_charts_html(figures), zone=zone.key), status


def _charts_html(figures: Figures) -> Markup:
    """The charts drawn for these figures in the current language. Drawing them is most of what the page costs,
    so the HTML is kept as long as the figures are (for the other admins and reloads of that minute)."""
    locale = language().code

    def draw() -> bytes:
        charts, weeks = dashboard_charts(figures), week_names(figures.weeks.mondays)
        return render_template("admin/_charts.html", charts=charts, weeks=weeks).encode()

    html = remembered(f"{figures.name}:html:{locale}", KEEP_SECONDS, draw).decode()
    return Markup(html)  # noqa: S704 (the output of our own template, escaped by Jinja when it was drawn)


@bp.route("")
@role_required("admin")
def dashboard():
    """Twelve weeks of requests, answers, expired requests, cancellations, new users and failed emails."""
    return _dashboard_page(ExportForm())


@bp.route("/export/consultations.csv")
@role_required("admin")
def export_consultations():
    """The consultations requested between two days (both included, the admin's zone) as a CSV download."""
    form = ExportForm()
    if not form.validate():
        return _dashboard_page(form, 422)
    zone, first, last = _zone(), form.date_from.data, form.date_to.data
    start, end = local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)
    lines = consultations_csv(start, end, zone, utcnow())
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="consultations-{first}-to-{last}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
