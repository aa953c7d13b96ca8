"""Admin pages (filled in by the moderation feature)."""

from flask import render_template

from portal.access import role_required
from portal.blueprints.admin import bp


@bp.route("/users")
@role_required("admin")
def users():
    """Users and moderation."""
    return render_template("admin/users.html")
