"""The webhooks page: add an endpoint (its secret shown once), stop, restart or delete one, read the delivery log."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.access import role_required
from portal.blueprints.webhooks import bp
from portal.blueprints.webhooks.forms import WebhookForm
from portal.blueprints.webhooks.queries import deliveries_page, endpoints_of
from portal.extensions import db
from portal.forms import EmptyForm
from portal.i18n import gettext as _
from portal.services import webhooks
from portal.services.errors import DomainError


@bp.route("/profile/webhooks", methods=["GET", "POST"])
@role_required("specialist", "admin")
def endpoints():
    """The endpoints, the form to add one, and the deliveries, newest first."""
    user = current_user._get_current_object()
    form = WebhookForm()
    secret = None
    status = 200
    if form.validate_on_submit():
        try:
            endpoint, secret = webhooks.create_endpoint(user, form.url.data, form.events.data or [])
            url = endpoint.url
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            if not form.apply_domain_error(error):
                flash(str(error.message), "error")
            secret, status = None, 422
        else:
            flash(
                _("The webhook to %(url)s is added. Copy its signing secret now: it is shown only once.", url=url),
                "success",
            )
            form = WebhookForm(formdata=None)
    elif form.is_submitted():
        status = 422
    page = render_template(
        "webhooks/endpoints.html",
        form=form,
        secret=secret,
        endpoints=endpoints_of(user),
        page=deliveries_page(user),
    )
    return page, status


def _change(action, message: str, endpoint_id: int):
    """Run one endpoint action, commit, say what happened, back to the page."""
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            url = action(current_user._get_current_object(), endpoint_id).url
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            flash(message % {"url": url}, "success")
    return redirect(url_for("webhooks.endpoints"), 303)


@bp.route("/profile/webhooks/<id:endpoint_id>/disable", methods=["POST"])
@role_required("specialist", "admin")
def disable(endpoint_id: int):
    """Stop sending events to the endpoint."""
    return _change(webhooks.disable_endpoint, _("The webhook to %(url)s is disabled."), endpoint_id)


@bp.route("/profile/webhooks/<id:endpoint_id>/enable", methods=["POST"])
@role_required("specialist", "admin")
def enable(endpoint_id: int):
    """Send events to the endpoint again."""
    return _change(webhooks.enable_endpoint, _("The webhook to %(url)s is enabled again."), endpoint_id)


@bp.route("/profile/webhooks/<id:endpoint_id>/delete", methods=["POST"])
@role_required("specialist", "admin")
def delete(endpoint_id: int):
    """Delete the endpoint and its deliveries."""
    return _change(webhooks.delete_endpoint, _("The webhook to %(url)s is deleted."), endpoint_id)
