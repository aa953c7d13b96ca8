"""Admin pages: users, blocking and unblocking, resetting two-factor authentication, the moderation log."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.access import role_required, safe_next
from portal.blueprints.admin import bp
from portal.blueprints.admin.forms import BlockForm, LogFilterForm, UserSearchForm
from portal.blueprints.admin.listing import log_page, users_page
from portal.extensions import db
from portal.forms import EmptyForm
from portal.i18n import gettext as _
from portal.models import User
from portal.pagination import Page
from portal.services import moderation, two_factor
from portal.words import email_kind_label


def current_list_url() -> str:
    """This page with its query string, for the row buttons to come back to."""
    return request.full_path.rstrip("?")


def back_to_list():
    """303 to the list the form came from (only paths on this site), else the users page."""
    return redirect(safe_next(request.form.get("next")) or url_for("admin.users"), code=303)


@bp.context_processor
def admin_globals():
    """Helpers every admin template uses."""
    return {"current_list_url": current_list_url, "email_kind_label": email_kind_label}


@bp.route("/users")
@role_required("admin")
def users():
    """Find users by username or email, filter by role and blocked, newest or oldest first."""
    form = UserSearchForm()
    if not form.validate():
        return render_template("admin/users.html", form=form, page=Page([]), filters={}), 422
    filters = {"q": form.q.data, "role": form.role.data, "blocked": form.blocked.data}
    if form.sort.data == "oldest":
        filters["sort"] = "oldest"
    filters = {name: value for name, value in filters.items() if value}
    page = users_page(form.q.data or "", form.role.data, form.blocked.data, oldest_first=form.sort.data == "oldest")
    return render_template("admin/users.html", form=form, page=page, filters=filters)


def _confirm_page(target: User, form: BlockForm, status: int = 200):
    """The block confirmation page, returning to a list on this site."""
    form.next.data = safe_next(form.next.data or request.args.get("next")) or url_for("admin.users")
    return render_template("admin/block.html", target=target, form=form), status


@bp.route("/users/<id:user_id>/block", methods=["GET", "POST"])
@role_required("admin")
def block(user_id: int):
    """Block a user: the confirmation page with the reason, then the block itself."""
    target = db.get_or_404(User, user_id)
    form = BlockForm()
    if not form.is_submitted():
        return _confirm_page(target, form)
    if not form.validate():
        return _confirm_page(target, form, 422)
    if form.confirm.data != "yes":
        # Every block is confirmed on this page, with its reason: no one-click block, even by a crafted form.
        return _confirm_page(target, form)
    return _moderate(
        lambda: moderation.block_user(current_user, user_id, form.reason.data, confirmed=True),
        lambda user: _("%(username)s is blocked; all of their sessions have ended.", username=user.label),
    )


def commit_or_flash(change, done) -> bool:
    """Apply one service call of an admin's button (PortalForm.commit: a missing object is a 404, a refusal a flash
    message, nothing written); success flashes `done(result)`. Whether it succeeded."""
    outcome = EmptyForm().commit(change)
    if outcome.done:
        flash(done(outcome.value), "success")
    return outcome.done


def _moderate(change, done):
    """Apply one moderation service call (commit_or_flash); back to the list either way."""
    commit_or_flash(change, done)
    return back_to_list()


@bp.route("/users/<id:user_id>/unblock", methods=["POST"])
@role_required("admin")
def unblock(user_id: int):
    """Unblock a user; they may log in again."""
    return _moderate(
        lambda: moderation.unblock_user(current_user, user_id),
        lambda user: _("%(username)s is unblocked and can log in again.", username=user.label),
    )


@bp.route("/users/<id:user_id>/reset-two-factor", methods=["POST"])
@role_required("admin")
def reset_two_factor(user_id: int):
    """Turn a user's two-factor authentication off (they lost their phone and codes); logged, owner emailed."""
    return _moderate(
        lambda: two_factor.reset_by_admin(current_user, user_id),
        lambda user: _("Two-factor authentication of %(username)s is off; they were emailed.", username=user.label),
    )


@bp.route("/log")
@role_required("admin")
def log():
    """Who blocked or unblocked whom, when and why; newest first."""
    form = LogFilterForm()
    if not form.validate():
        return render_template("admin/log.html", form=form, page=Page([]), filters={}), 422
    filters = {name: value for name, value in (("admin", form.admin.data), ("user", form.user.data)) if value}
    page = log_page(form.admin.data or "", form.user.data or "")
    return render_template("admin/log.html", form=form, page=page, filters=filters)
