from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.blueprints.admin import delivery, routes  # noqa: E402,F401
