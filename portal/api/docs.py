"""GET /api/v1/docs: the OpenAPI document as a page of this site (no script, no external asset)."""

from flask import Blueprint, current_app, render_template

from portal.api.problems import use_request_language

bp = Blueprint("api_docs", __name__)

METHODS = ("get", "post", "put", "patch", "delete")


@bp.route("/docs")
def docs():
    """Every operation of the API with its parameters, body, answers and the schemas they use."""
    use_request_language()
    spec = current_app.extensions["portal_api"].spec.to_dict()
    operations = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    return render_template("api/docs.html", spec=spec, operations=operations)
