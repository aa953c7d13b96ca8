"""The webhooks page: add an endpoint (its secret shown once), stop, restart or delete one, read the delivery log."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal.access import role_required
from portal.blueprints.webhooks import bp
from portal.blueprints.webhooks.forms import WebhookForm
from portal.blueprints.webhooks.queries import deliveries_page, endpoints_of
from portal.forms import EmptyForm
from portal.i18n import gettext as _
from portal.services import webhooks


@bp.route("/profile/webhooks", methods=["GET", "POST"])
@role_required("specialist", "admin")
def endpoints():
    """The endpoints, the form to add one, and the deliveries, newest first."""
    user = current_user._get_current_object()
    form = WebhookForm()
    secret = None
    status = 200
    if form.validate_on_submit():

        def create():
            endpoint, secret = webhooks.create_endpoint(user, form.url.data, form.events.data or [])
            return endpoint.url, secret

        outcome = form.commit(create)
        if not outcome.done:
            status = 422
        else:
            url, secret = outcome.value
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
        outcome = form.commit(lambda: action(current_user._get_current_object(), endpoint_id).url)
        if outcome.done:
            flash(message % {"url": outcome.value}, "success")
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
