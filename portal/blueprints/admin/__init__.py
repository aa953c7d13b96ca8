from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.blueprints.admin import dashboard, delivery, routes  # noqa: E402,F401
