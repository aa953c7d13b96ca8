"""Client pages: find a slot, request it, follow, reschedule and cancel consultations."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access
from portal.access import role_required, safe_next
from portal.blueprints.client import bp, queries
from portal.blueprints.client.forms import CancelForm, NewTimeForm, SlotFilterForm
from portal.blueprints.directory import queries as directory_queries
from portal.clock import utcnow
from portal.forms import EmptyForm
from portal.i18n import gettext as _
from portal.ics import consultation_ics
from portal.models.slot import inside_cutoff, is_reschedulable
from portal.services import booking, lifecycle

FILTER_FIELDS = ("specialist", "specialty", "date_from", "date_to")
RESCHEDULE_DAYS = 14  # the free times a new time is chosen from, like a profile's window


def _page_size() -> int:
    """Rows per page of the client lists."""
    return current_app.config["PAGE_SIZE"]


def _filters(form: SlotFilterForm) -> tuple[queries.SlotFilters, dict]:
    """The valid filters of the form, and the same as query arguments for page links."""
    values = {name: getattr(form, name).data for name in FILTER_FIELDS if not getattr(form, name).errors}
    args = {name: (value.isoformat() if hasattr(value, "isoformat") else value) for name, value in values.items()}
    filters = queries.SlotFilters(
        **{k: v for k, v in values.items() if v}, timezone=current_user.timezone, whole_specialty=True
    )
    return filters, {k: v for k, v in args.items() if v}


@bp.route("/slots")
@role_required("client")
def slots():
    """Find a free slot: filters, soonest first, one page at a time, under a heading per day."""
    form = SlotFilterForm()
    form.specialty.set_specialties(directory_queries.specialties())
    form.validate()
    filters, args = _filters(form)
    page = queries.slot_page(
        current_user.id,
        utcnow(),
        filters,
        _page_size(),
        after=request.args.get("after"),
        before=request.args.get("before"),
    )
    here = request.full_path if request.query_string else request.path
    return render_template(
        "client/slots.html",
        form=form,
        page=page,
        days=directory_queries.by_day(page.items, ZoneInfo(current_user.timezone)),
        filtered=bool(args),
        args=args,
        here=here,
    ), (422 if form.errors else 200)


def _back_to_slots(slot_id: int) -> str:
    """The finder page the Request button came from (with its filters), never anywhere else, at the slot's row:
    the browser scrolls back to where the button was, with or without JavaScript."""
    target = safe_next(request.form.get("next"))
    if not (target and (target == "/client/slots" or target.startswith("/client/slots?"))):
        target = url_for("client.slots")
    return f"{target.partition('#')[0]}#slot-{slot_id}"


@bp.route("/slots/<id:slot_id>/request", methods=["POST"])
@role_required("client")
def request_slot(slot_id: int):
    """Request a slot from the list; refusals come back as a message."""
    back = _back_to_slots(slot_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("The form was out of date. Please try again."), "error")
        return redirect(back, 303)
    outcome = form.commit(lambda: booking.request_slot(current_user, slot_id).slot.specialist.label)
    if outcome.done:
        message = _("Your request is sent to %(who)s. You will get an email when they answer.", who=outcome.value)
        flash(message, "success")
    return redirect(back, 303)


@bp.route("/consultations")
@role_required("client")
def consultations():
    """The client's consultations in two tabs: Upcoming (pending, accepted) soonest first; Past and cancelled
    (the rest) newest first."""
    tab = request.args.get("tab") if request.args.get("tab") in queries.TABS else "upcoming"
    now = utcnow()
    page = queries.consultation_page(
        current_user.id, now, tab, _page_size(), after=request.args.get("after"), before=request.args.get("before")
    )
    return render_template(
        "client/consultations.html",
        page=page,
        tab=tab,
        now=now,
        args={"tab": tab},
    )


@bp.route("/consultations/<id:consultation_id>/cancel", methods=["GET", "POST"])
@role_required("client")
def cancel(consultation_id: int):
    """Cancel a pending or accepted consultation with a reason and/or a comment."""
    consultation = access.get_own_consultation_or_404(current_user, consultation_id)
    now = utcnow()
    if not consultation.can_cancel(now):
        flash(str(booking.NOT_CANCELLABLE), "error")
        return redirect(url_for("client.consultations"), 303)
    if inside_cutoff(consultation.slot.starts_at, now, booking.cutoff_hours(consultation.slot.specialist_id)):
        flash(str(booking.TOO_LATE), "error")
        return redirect(url_for("client.consultations"), 303)
    form = CancelForm()
    if form.validate_on_submit():
        outcome = form.commit(
            lambda: booking.cancel_consultation(current_user, consultation.id, form.reason.data, form.comment.data),
            url_for("client.consultations"),
        )
        if outcome.response:
            return outcome.response
        if outcome.done:
            flash(_("The consultation is cancelled. The specialist has been told."), "success")
            return redirect(url_for("client.consultations"), 303)
        consultation = access.get_own_consultation_or_404(current_user, consultation_id)
    status = 422 if form.errors else 200
    return render_template("client/cancel.html", form=form, consultation=consultation), status


@bp.route("/consultations/<id:consultation_id>/reschedule", methods=["GET", "POST"])
@role_required("client")
def reschedule(consultation_id: int):
    """Ask the same specialist for another of their free times (the next 14 days) instead of this one."""
    consultation = access.get_own_consultation_or_404(current_user, consultation_id)
    slot, now = consultation.slot, utcnow()
    if not consultation.can_cancel(now):
        flash(str(lifecycle.NOT_RESCHEDULABLE), "error")
        return redirect(url_for("client.consultations"), 303)
    if not is_reschedulable(consultation.status, slot.starts_at, now, booking.cutoff_hours(slot.specialist_id)):
        flash(str(booking.TOO_LATE), "error")
        return redirect(url_for("client.consultations"), 303)
    form = NewTimeForm()
    if form.validate_on_submit():
        outcome = form.commit(
            lambda: lifecycle.reschedule(current_user, consultation.id, int(form.slot_id.data)),
            url_for("client.consultations"),
        )
        if outcome.response:
            return outcome.response
        if not outcome.done:
            consultation = access.get_own_consultation_or_404(current_user, consultation_id)
            slot = consultation.slot
        else:
            _request, created = outcome.value
            if created:
                flash(
                    _(
                        "Your request for the new time is sent. Your consultation stays booked until the specialist "
                        "accepts the new time."
                    ),
                    "success",
                )
            else:
                flash(
                    _("Your request now asks for the new time. You will get an email when the specialist answers."),
                    "success",
                )
            return redirect(url_for("client.consultations"), 303)
    zone = ZoneInfo(current_user.timezone)
    first = now.astimezone(zone).date()
    since, until = (
        queries.day_start(first, current_user.timezone),
        queries.day_start(first + timedelta(days=RESCHEDULE_DAYS), current_user.timezone),
    )
    times, truncated = directory_queries.free_times(slot.specialist_id, now, since, until)
    times = [time for time in times if time.id != slot.id]
    chosen = form.slot_id.data if form.is_submitted() else None
    return render_template(
        "client/reschedule.html",
        form=form,
        consultation=consultation,
        days=directory_queries.by_day(times, zone),
        truncated=truncated,
        first=first,
        last=first + timedelta(days=RESCHEDULE_DAYS - 1),
        chosen=chosen,
    ), (422 if form.errors else 200)


@bp.route("/consultations/<id:consultation_id>.ics")
@role_required("client")
def consultation_ics_file(consultation_id: int):
    """The calendar invitation of an accepted consultation."""
    consultation = access.get_own_consultation_or_404(current_user, consultation_id)
    if consultation.status != "accepted":
        abort(404)
    return Response(
        consultation_ics(consultation),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="consultation-{consultation.id}.ics"'},
    )
