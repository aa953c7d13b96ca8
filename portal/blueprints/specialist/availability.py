"""The availability page: weekly hours, booking rules and days off (SPEC §12)."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.access import get_own_day_off_or_404, role_required
from portal.blueprints.specialist import bp, queries
from portal.blueprints.specialist.forms import WEEKDAYS, AvailabilityForm, DaysOffForm
from portal.clock import utcnow
from portal.forms import EmptyForm
from portal.i18n import gettext as _
from portal.i18n import ngettext
from portal.models.availability import (
    DEFAULT_BREAK_MINUTES,
    DEFAULT_CUTOFF_HOURS,
    DEFAULT_HORIZON_DAYS,
    DEFAULT_NOTICE_HOURS,
    DEFAULT_SESSION_MINUTES,
)
from portal.services import availability
from portal.services.slots import zone_of


def _filled(form: AvailabilityForm) -> None:
    """Put the saved hours and rules (or the defaults) into a form nobody has submitted."""
    saved = availability.rules_of(current_user.id)
    hours = availability.hours_of(current_user.id)
    for weekday, name in enumerate(WEEKDAYS):
        getattr(form, name).data = availability.format_ranges(hours.get(weekday, []))
    form.session_minutes.data = saved.session_minutes if saved else DEFAULT_SESSION_MINUTES
    form.break_minutes.data = saved.break_minutes if saved else DEFAULT_BREAK_MINUTES
    form.notice_hours.data = saved.notice_hours if saved else DEFAULT_NOTICE_HOURS
    form.horizon_days.data = saved.horizon_days if saved else DEFAULT_HORIZON_DAYS
    form.cutoff_hours.data = saved.cutoff_hours if saved else DEFAULT_CUTOFF_HOURS


def _page(form: AvailabilityForm, days_form: DaysOffForm, status: int = 200):
    zone = zone_of(current_user)
    periods = queries.days_off(current_user.id, utcnow(), zone)
    return render_template(
        "specialist/availability.html",
        form=form,
        days_form=days_form,
        periods=periods,
        weekdays=WEEKDAYS,
    ), status


@bp.route("/availability", methods=["GET", "POST"])
@role_required("specialist")
def availability_page():
    """Weekly hours and booking rules; saving brings the generated slots in line with them."""
    form = AvailabilityForm()
    if form.validate_on_submit():
        rules = availability.Rules(
            form.session_minutes.data,
            form.break_minutes.data,
            form.notice_hours.data,
            form.horizon_days.data,
            form.cutoff_hours.data,
        )
        outcome = form.commit(lambda: availability.save_availability(current_user, form.hours, rules))
        if outcome.done:
            flash(_saved_words(outcome.value), "success")
            return redirect(url_for("specialist.availability_page"), 303)
    if not form.is_submitted():
        _filled(form)
    return _page(form, DaysOffForm(formdata=None), 422 if form.errors else 200)


def _saved_words(outcome: availability.Outcome) -> str:
    words = [_("Availability saved.")]
    if outcome.created:
        words.append(ngettext("%(num)d new free slot.", "%(num)d new free slots.", outcome.created))
    if outcome.removed:
        words.append(
            ngettext(
                "%(num)d free slot outside your new hours removed.",
                "%(num)d free slots outside your new hours removed.",
                outcome.removed,
            )
        )
    return " ".join(words)


@bp.route("/availability/days-off", methods=["POST"])
@role_required("specialist")
def add_days_off():
    """Add a period of days off: its free slots without requests go, and none are generated there."""
    days_form = DaysOffForm()
    if days_form.validate_on_submit():
        days = days_form.first_day.data, days_form.last_day.data, days_form.note.data
        outcome = days_form.commit(lambda: availability.add_days_off(current_user, *days)[1])
        if outcome.done:
            message, removed = _("Days off added."), outcome.value
            if removed:
                message += " " + ngettext("%(num)d free slot removed.", "%(num)d free slots removed.", removed)
            flash(message, "success")
            return redirect(url_for("specialist.availability_page", _anchor="days-off"), 303)
    form = AvailabilityForm(formdata=None)
    _filled(form)
    return _page(form, days_form, 422)


@bp.route("/availability/days-off/<id:day_off_id>/remove", methods=["POST"])
@role_required("specialist")
def remove_days_off(day_off_id: int):
    """Remove a period of days off; its working hours make slots again."""
    get_own_day_off_or_404(current_user, day_off_id)
    form = EmptyForm()
    if form.validate_on_submit():
        outcome = form.commit(lambda: availability.remove_days_off(current_user, day_off_id))
        if outcome.done:
            message, created = _("Days off removed."), outcome.value
            if created:
                message += " " + ngettext("%(num)d new free slot.", "%(num)d new free slots.", created)
            flash(message, "success")
    return redirect(url_for("specialist.availability_page", _anchor="days-off"), 303)
