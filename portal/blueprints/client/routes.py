"""Client pages (filled in by the client booking feature)."""

from flask import render_template

from portal.access import role_required
from portal.blueprints.client import bp


@bp.route("/slots")
@role_required("client")
def slots():
    """Find a free slot."""
    return render_template("client/slots.html")
