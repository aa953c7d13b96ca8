"""Specialist pages (filled in by the specialist calendar feature)."""

from flask import render_template

from portal.access import role_required
from portal.blueprints.specialist import bp


@bp.route("/calendar")
@role_required("specialist")
def calendar():
    """The week calendar."""
    return render_template("specialist/calendar.html")
