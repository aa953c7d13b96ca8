from flask import Blueprint

bp = Blueprint("specialist", __name__)

from portal.blueprints.specialist import routes  # noqa: E402,F401
