"""Client pages: find a slot, request it, follow and cancel consultations."""

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access
from portal.access import role_required, safe_next
from portal.blueprints.client import bp, queries
from portal.blueprints.client.forms import CancelForm, SlotFilterForm
from portal.clock import utcnow
from portal.extensions import db
from portal.forms import EmptyForm
from portal.i18n import gettext as _
from portal.ics import consultation_ics
from portal.services import DomainError, booking

FILTER_FIELDS = ("specialist", "specialty", "date_from", "date_to")


def _page_size() -> int:
    """Rows per page of the client lists."""
    return current_app.config["PAGE_SIZE"]


def _filters(form: SlotFilterForm) -> tuple[queries.SlotFilters, dict]:
    """The valid filters of the form, and the same as query arguments for page links."""
    values = {name: getattr(form, name).data for name in FILTER_FIELDS if not getattr(form, name).errors}
    args = {name: (value.isoformat() if hasattr(value, "isoformat") else value) for name, value in values.items()}
    filters = queries.SlotFilters(**{k: v for k, v in values.items() if v}, timezone=current_user.timezone)
    return filters, {k: v for k, v in args.items() if v}


@bp.route("/slots")
@role_required("client")
def slots():
    """Find a free slot: filters, soonest first, one page at a time."""
    form = SlotFilterForm(request.args)
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
        filtered=bool(args),
        args=args,
        here=here,
    ), (422 if form.errors else 200)


def _back_to_slots() -> str:
    """The finder page the Request button came from (with its filters), never anywhere else."""
    target = safe_next(request.form.get("next"))
    if target and (target == "/client/slots" or target.startswith("/client/slots?")):
        return target
    return url_for("client.slots")


@bp.route("/slots/<id:slot_id>/request", methods=["POST"])
@role_required("client")
def request_slot(slot_id: int):
    """Request a slot from the list; refusals come back as a message."""
    back = _back_to_slots()
    if not EmptyForm().validate_on_submit():
        flash(_("The form was out of date. Please try again."), "error")
        return redirect(back, 303)
    try:
        consultation = booking.request_slot(current_user, slot_id)
        who = consultation.slot.specialist.label
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        flash(_("Your request is sent to %(who)s. You will get an email when they answer.", who=who), "success")
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
    if not consultation.can_cancel(utcnow()):
        flash(str(booking.NOT_CANCELLABLE), "error")
        return redirect(url_for("client.consultations"), 303)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            booking.cancel_consultation(current_user, consultation.id, form.reason.data, form.comment.data)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            if not form.apply_domain_error(error):
                flash(str(error.message), "error")
                return redirect(url_for("client.consultations"), 303)
            consultation = access.get_own_consultation_or_404(current_user, consultation_id)
        else:
            flash(_("The consultation is cancelled. The specialist has been told."), "success")
            return redirect(url_for("client.consultations"), 303)
    status = 422 if form.errors else 200
    return render_template("client/cancel.html", form=form, consultation=consultation), status


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
