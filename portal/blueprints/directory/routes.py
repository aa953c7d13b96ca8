"""Find a specialist and book: the directory, a specialist's profile with free times, the booking page."""

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_login import current_user

from portal.access import role_required
from portal.blueprints.client.queries import day_start
from portal.blueprints.directory import bp, queries
from portal.blueprints.directory.forms import BookForm, DirectoryFilterForm
from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models.user import person_label
from portal.search import contains_pattern
from portal.services import DomainError, booking

WINDOW_DAYS = 14
USERNAME = re.compile(r"[A-Za-z0-9._-]{1,32}")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
LATEST = date(2199, 12, 1)  # the last first day of a window: time zone arithmetic stays within range


def _viewer_zone() -> str:
    """The zone times are shown in: the visitor's own, else the portal's default."""
    return str(get_timezone())


@bp.route("/specialists")
def specialists():
    """The directory: active specialists by name, with search, specialty and their next free time."""
    form = DirectoryFilterForm()
    form.specialty.set_specialties(queries.specialties())
    form.validate()
    search = form.q.data if not form.q.errors else ""
    specialty = form.specialty.data if not form.specialty.errors else ""
    page = queries.card_page(
        utcnow(),
        contains_pattern(search) if search else None,
        specialty or None,
        current_app.config["PAGE_SIZE"],
        after=request.args.get("after"),
        before=request.args.get("before"),
    )
    args = {name: value for name, value in (("q", search), ("specialty", specialty)) if value}
    return render_template("directory/specialists.html", form=form, page=page, args=args, filtered=bool(args)), (
        422 if form.errors else 200
    )


def _first_day(value: str | None, today: date) -> date:
    """The window's first day: ?from=YYYY-MM-DD when it is a real day from today on, else today."""
    if not value or not DAY.fullmatch(value):
        return today
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return today
    return min(max(day, today), LATEST)


def _one_length(times) -> int | None:
    """The length of every session in the window when they are all alike (said once, not under each time)."""
    lengths = {time.duration_minutes for time in times}
    return lengths.pop() if len(lengths) == 1 else None


@bp.route("/specialists/<username>")
def profile(username: str):
    """A specialist's public page: who they are and their free times for 14 days, grouped by day."""
    if not USERNAME.fullmatch(username):
        abort(404)
    now, zone_name = utcnow(), _viewer_zone()
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    first = _first_day(request.args.get("from"), today)
    since, until = day_start(first, zone_name), day_start(first + timedelta(days=WINDOW_DAYS), zone_name)
    specialist = queries.profile(username, now, since)
    if specialist is None:
        abort(404)
    times, truncated = queries.free_times(specialist.id, now, since, until)
    return render_template(
        "directory/profile.html",
        specialist=specialist,
        days=queries.by_day(times, zone),
        truncated=truncated,
        first=first,
        last=first + timedelta(days=WINDOW_DAYS - 1),
        earlier=max(first - timedelta(days=WINDOW_DAYS), today) if first > today else None,
        later=first + timedelta(days=WINDOW_DAYS),
        today=today,
        next_day=specialist.next_free.astimezone(zone).date() if specialist.next_free else None,
        viewer_zone=zone_name,
        times_max=queries.FREE_TIMES_MAX,
        one_length=_one_length(times),
    )


def _end_format(slot, zone: ZoneInfo) -> str:
    """How the end of a slot reads after its start: the time alone on the same day, else the date too."""
    same_day = slot.starts_at.astimezone(zone).date() == slot.ends_at.astimezone(zone).date()
    return "time" if same_day else "datetime"


def _other_zone(slot, zone: ZoneInfo) -> str | None:
    """The specialist's zone when their clock reads otherwise than the viewer's during the slot, else None."""
    theirs = ZoneInfo(slot.timezone)
    same = all(
        moment.astimezone(zone).utcoffset() == moment.astimezone(theirs).utcoffset()
        for moment in (slot.starts_at, slot.ends_at)
    )
    return None if same else slot.timezone


def _specialist_words(slot) -> str:
    """The specialist as a flash message names them (models/user.py person_label)."""
    return person_label(slot.display_name, slot.username)


@bp.route("/book/<id:slot_id>", methods=["GET", "POST"])
@role_required("client")
def book(slot_id: int):
    """The booking page: what will be requested, an optional message, Request consultation."""
    now = utcnow()
    slot = queries.booking_slot(slot_id, current_user.id, now)
    if slot is None:
        abort(404)
    form = BookForm()
    problem, status = None, 200
    if form.validate_on_submit():
        try:
            booking.request_slot(current_user, slot_id, form.message.data)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            if not form.apply_domain_error(error):
                problem, status = error.message, 409
        else:
            flash(
                _(
                    "Your request is sent to %(who)s. Nothing is booked until they accept it: you will get an "
                    "email when they answer.",
                    who=_specialist_words(slot),
                ),
                "success",
            )
            return redirect(url_for("client.consultations"), 303)
    if form.errors:
        status = 422
    elif problem is None:
        problem = slot.refusal(now)
    zone = ZoneInfo(_viewer_zone())
    specialist_zone = _other_zone(slot, zone)
    return render_template(
        "directory/book.html",
        slot=slot,
        form=form,
        problem=problem,
        show_form=problem is None,
        viewer_zone=_viewer_zone(),
        end_format=_end_format(slot, zone),
        specialist_zone=specialist_zone,
        specialist_end_format=_end_format(slot, ZoneInfo(specialist_zone)) if specialist_zone else None,
    ), status
