from flask import Blueprint

bp = Blueprint("directory", __name__)

from portal.blueprints.directory import routes  # noqa: E402,F401
