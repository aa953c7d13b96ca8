from flask import Blueprint

bp = Blueprint("specialist", __name__)

from portal.blueprints.specialist import availability, routes  # noqa: E402,F401
