"""Specialist pages: the week calendar, the slot table, slot forms, the requests page, moving and cancelling an
accepted consultation."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access
from portal.access import role_required, safe_next
from portal.blueprints.client.queries import day_start
from portal.blueprints.directory import queries as directory_queries
from portal.blueprints.specialist import bp, queries
from portal.blueprints.specialist.forms import CancelConsultationForm, EditSlotForm, MoveForm, RejectForm, SlotForm
from portal.blueprints.specialist.week import build_week, local_midnight, parse_week, week_param
from portal.clock import utcnow
from portal.extensions import db
from portal.forms import EmptyForm
from portal.i18n import gettext as _
from portal.i18n import ngettext
from portal.ids import valid_id
from portal.models import User
from portal.models.slot import is_movable
from portal.services import lifecycle
from portal.services import requests as requests_service
from portal.services import slots as slots_service


def _week_of(moment) -> str:
    """The calendar's week parameter for an instant, in the specialist's zone."""
    local = moment.astimezone(slots_service.zone_of(current_user)).date()
    return week_param(local - timedelta(days=local.weekday()))


@bp.route("/calendar")
@role_required("specialist")
def calendar():
    """The week grid of the specialist's slots, in their time zone."""
    zone, now = slots_service.zone_of(current_user), utcnow()
    today = now.astimezone(zone).date()
    monday = parse_week(request.args.get("week"), today)
    start, end = local_midnight(monday, zone), local_midnight(monday + timedelta(days=7), zone)
    week = build_week(monday, queries.week_slots(current_user.id, start, end), zone, now)
    this_week = week_param(today - timedelta(days=today.weekday()))
    return render_template("specialist/calendar.html", week=week, this_week=this_week)


@bp.route("/slots")
@role_required("specialist")
def slots():
    """The specialist's slots as a table: upcoming soonest first, or past ones on their own tab."""
    tab = "past" if request.args.get("tab") == "past" else "upcoming"
    page = queries.slot_page(
        current_user.id,
        utcnow(),
        past=tab == "past",
        after=request.args.get("after"),
        before=request.args.get("before"),
        size=current_app.config["PAGE_SIZE"],
    )
    args = {"tab": tab} if tab == "past" else {}
    return render_template("specialist/slots.html", page=page, tab=tab, args=args)


@bp.route("/slots/new", methods=["GET", "POST"])
@role_required("specialist")
def new_slot():
    """Publish a slot, optionally repeated on the following weeks."""
    form = SlotForm()
    if not form.is_submitted():
        form.date.data = form.date.data or _date_arg()
    if form.validate_on_submit():
        outcome = form.commit(
            lambda: slots_service.create_slots(
                current_user,
                form.date.data,
                form.start_time.data,
                form.end_time.data,
                form.note.data,
                form.repeat_weeks.data,
            )
        )
        if outcome.done:
            created = outcome.value
            flash(ngettext("The slot is saved.", "%(num)d slots are saved.", len(created)), "success")
            return redirect(url_for(".calendar", week=_week_of(created[0].starts_at)), 303)
    status = 422 if form.is_submitted() else 200
    return render_template("specialist/slot_form.html", form=form, slot=None), status


def _date_arg() -> date | None:
    """A date given in the link from the calendar, if it is one."""
    try:
        return date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        return None


@bp.route("/slots/<id:slot_id>/edit", methods=["GET", "POST"])
@role_required("specialist")
def edit_slot(slot_id: int):
    """Change a slot's date, times or note, or transfer it to another specialist."""
    slot = access.get_own_slot_or_404(current_user, slot_id)
    zone = slots_service.zone_of(current_user)
    start, end = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
    initial = dict(
        date=start.date(),
        start_time=start.time(),
        end_time=end.time(),
        note=slot.note,
        specialist=current_user.username,
    )
    form = EditSlotForm(data=initial)
    if form.validate_on_submit():

        def save():
            saved, changed = slots_service.edit_slot(
                current_user,
                slot_id,
                day=form.date.data,
                start=form.start_time.data,
                end=form.end_time.data,
                note=form.note.data or "",
                new_owner=form.specialist.data,
            )
            owner = db.session.get(User, saved.specialist_id)  # already in the session: no query
            return saved, changed, owner.username, _week_of(saved.starts_at)

        outcome = form.commit(save)
        if outcome.done:
            slot, changed, owner_name, week = outcome.value
            if not changed:
                flash(_("Nothing was changed."), "info")
            elif owner_name != current_user.username:
                flash(_("The slot now belongs to %(username)s.", username=owner_name), "success")
            else:
                flash(_("The slot is saved."), "success")
            return redirect(url_for(".calendar", week=week), 303)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "specialist/slot_form.html",
        form=form,
        slot=slot,
        started=slot.starts_at <= utcnow(),
        affected=slots_service.count_active(slot_id),
    ), status


@bp.route("/slots/<id:slot_id>/delete", methods=["GET", "POST"])
@role_required("specialist")
def delete_slot(slot_id: int):
    """Confirm (GET) and delete (POST) a slot; its clients are told their consultation is cancelled."""
    slot = access.get_own_slot_or_404(current_user, slot_id)
    form = EmptyForm()
    if form.validate_on_submit():
        week = _week_of(slot.starts_at)
        outcome = form.commit(lambda: slots_service.delete_slot(current_user, slot_id), url_for(".slots"))
        if outcome.response:
            return outcome.response
        notified = outcome.value
        flash(
            ngettext(
                "The slot is deleted; %(num)d client was notified.",
                "The slot is deleted; %(num)d clients were notified.",
                notified,
            )
            if notified
            else _("The slot is deleted."),
            "success",
        )
        return redirect(url_for(".calendar", week=week), 303)
    return render_template(
        "specialist/delete.html",
        form=form,
        slot=slot,
        started=slot.starts_at <= utcnow(),
        affected=slots_service.count_active(slot_id),
    )


@bp.route("/consultations")
@role_required("specialist")
def consultations():
    """Requests on the specialist's slots by status; pending ones of future slots can be answered."""
    status = request.args.get("status", "pending")
    if status not in queries.REQUEST_TABS:
        status = "pending"
    # ?slot=<id>: the requests on one slot (the calendar's link from a slot with requests waiting).
    slot = access.get_own_slot_or_404(current_user, _slot_arg()) if "slot" in request.args else None
    now = utcnow()
    page = queries.request_page(
        current_user.id,
        now,
        status,
        after=request.args.get("after"),
        before=request.args.get("before"),
        size=current_app.config["PAGE_SIZE"],
        slot_id=slot.id if slot else None,
    )
    return render_template(
        "specialist/consultations.html",
        page=page,
        groups=queries.by_slot(page.items),
        status=status,
        slot=slot,
        now=now,
        args={"status": status, "slot": slot.id if slot else None},
        back=request.full_path if request.query_string else request.path,
    )


def _slot_arg() -> int:
    """The slot id of ?slot=; anything but an id is no slot of anyone's (404)."""
    value = request.args.get("slot", "")
    if not (value.isascii() and value.isdigit() and len(value) <= 12 and valid_id(int(value))):
        abort(404)
    return int(value)


def _back():
    """Back to the requests tab the answer was given from."""
    return redirect(safe_next(request.form.get("next")) or url_for(".consultations"), 303)


@bp.route("/consultations/<id:consultation_id>/accept", methods=["POST"])
@role_required("specialist")
def accept_request(consultation_id: int):
    """Accept a pending request; the slot's other pending requests are rejected."""
    access.own_request_slot_id_or_404(current_user, consultation_id)
    form = EmptyForm()
    if form.validate_on_submit():

        def accept():
            consultation, rejected = requests_service.accept_request(current_user, consultation_id)
            return consultation.client.label, len(rejected)

        outcome = form.commit(accept)
        if outcome.done:
            username, others = outcome.value
            message = _("You accepted the request of %(username)s.", username=username)
            if others:
                message += " " + ngettext(
                    "%(num)d other request on this slot was rejected.",
                    "%(num)d other requests on this slot were rejected.",
                    others,
                )
            flash(message, "success")
    return _back()


@bp.route("/consultations/<id:consultation_id>/reject", methods=["POST"])
@role_required("specialist")
def reject_request(consultation_id: int):
    """Reject a pending request, with an optional reason for the client."""
    access.own_request_slot_id_or_404(current_user, consultation_id)
    form = RejectForm()
    if form.validate_on_submit():
        outcome = form.commit(
            lambda: requests_service.reject_request(current_user, consultation_id, form.reason.data).client.label
        )
        if outcome.done:
            flash(_("You rejected the request of %(username)s.", username=outcome.value), "success")
    for message in form.reason.errors:  # the page is the requests tab: a refused reason comes back as a message
        flash(message, "error")
    return _back()


MOVE_DAYS = 14  # the free slots a consultation can be moved to, from today on


def _accepted_or_back(consultation_id: int):
    """The specialist's accepted consultation that has not started, or a redirect back to the requests page."""
    consultation = access.get_own_request_or_404(current_user, consultation_id)
    if not is_movable(consultation.status, consultation.slot.starts_at, utcnow()):
        flash(str(lifecycle.NOT_MOVABLE), "error")
        return None, redirect(url_for(".consultations", status="accepted"), 303)
    return consultation, None


def _change_accepted(consultation_id: int, form, change, done):
    """The steps Move and Cancel share: the accepted consultation (or back to the requests), then, for a valid
    form, `change()` committed and `done(value)` answering its success. (response, consultation): a response to
    return, or the consultation to show the form with again (reloaded after a refusal)."""
    consultation, back = _accepted_or_back(consultation_id)
    if back is not None:
        return back, None
    if form.validate_on_submit():
        outcome = form.commit(change, url_for(".consultations", status="accepted"))
        if outcome.response:
            return outcome.response, None
        if outcome.done:
            return done(outcome.value), None
        consultation = access.get_own_request_or_404(current_user, consultation_id)
    return None, consultation


@bp.route("/consultations/<id:consultation_id>/move", methods=["GET", "POST"])
@role_required("specialist")
def move_consultation(consultation_id: int):
    """Move an accepted consultation to another of the specialist's free slots (the next 14 days)."""
    form = MoveForm()

    def move():
        moved = lifecycle.move_consultation(current_user, consultation_id, int(form.slot_id.data))
        return moved.client.label, _week_of(moved.slot.starts_at)

    def moved(value):
        username, week = value
        flash(_("The consultation with %(username)s is moved; they have been emailed.", username=username), "success")
        return redirect(url_for(".calendar", week=week), 303)

    response, consultation = _change_accepted(consultation_id, form, move, moved)
    if response is not None:
        return response
    zone, now = slots_service.zone_of(current_user), utcnow()
    first = now.astimezone(zone).date()
    since = day_start(first, current_user.timezone)
    until = day_start(first + timedelta(days=MOVE_DAYS), current_user.timezone)
    times, truncated = directory_queries.free_times(current_user.id, now, since, until)
    return render_template(
        "specialist/move.html",
        form=form,
        consultation=consultation,
        days=directory_queries.by_day(times, ZoneInfo(current_user.timezone)),
        truncated=truncated,
        first=first,
        last=first + timedelta(days=MOVE_DAYS - 1),
        chosen=form.slot_id.data if form.is_submitted() else None,
    ), (422 if form.errors else 200)


@bp.route("/consultations/<id:consultation_id>/cancel", methods=["GET", "POST"])
@role_required("specialist")
def cancel_consultation(consultation_id: int):
    """Cancel an accepted consultation with a reason for the client; the slot stays offered unless removed."""
    form = CancelConsultationForm()

    def cancel():
        reason, remove_slot = form.reason.data, form.remove_slot.data
        return lifecycle.cancel_by_specialist(current_user, consultation_id, reason, remove_slot).client.label

    def cancelled(username):
        message = _("The consultation with %(username)s is cancelled; they have been emailed.", username=username)
        flash(message, "success")
        return redirect(url_for(".consultations", status="cancelled"), 303)

    response, consultation = _change_accepted(consultation_id, form, cancel, cancelled)
    if response is not None:
        return response
    return render_template("specialist/cancel.html", form=form, consultation=consultation), (
        422 if form.errors else 200
    )
