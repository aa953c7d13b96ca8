"""Admin email delivery page: the outbox, stuck rows, the RQ queue, and retrying failed emails."""

from flask import current_app, redirect, render_template, request, url_for

from portal.access import role_required, safe_next
from portal.blueprints.admin import bp
from portal.blueprints.admin.listing import emails_page
from portal.blueprints.admin.routes import commit_or_flash
from portal.i18n import gettext as _
from portal.models.outbox import EMAIL_STATES
from portal.outbox import admin as outbox_admin


@bp.route("/emails")
@role_required("admin")
def emails():
    """Recent outgoing emails with their delivery state, filtered by state."""
    state = request.args.get("state", "")
    if state not in EMAIL_STATES:
        state = ""
    return render_template(
        "admin/emails.html",
        state=state,
        filters={"state": state} if state else {},
        page=emails_page(state),
        counts=outbox_admin.state_counts(),
        stuck=outbox_admin.stuck_count(),
        stale_seconds=current_app.config["OUTBOX_STALE_SECONDS"],
        queue=outbox_admin.queue_stats(),
    )


@bp.route("/emails/<id:outbox_id>/retry", methods=["POST"])
@role_required("admin")
def retry_email(outbox_id: int):
    """Queue a failed email again; its attempts so far are kept."""
    queued = commit_or_flash(
        lambda: outbox_admin.retry_email(outbox_id),
        lambda email: _("The email to %(recipient)s is queued again.", recipient=email.recipient),
    )
    if queued:
        outbox_admin.requeue(outbox_id)
    return redirect(safe_next(request.form.get("next")) or url_for("admin.emails"), code=303)
