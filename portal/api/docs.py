"""GET /api/v1/docs: the OpenAPI document as a page of this site (no script, no external asset)."""

import re

from flask import Blueprint, current_app, render_template
from markupsafe import Markup, escape

from portal.api.problems import use_request_language

bp = Blueprint("api_docs", __name__)

METHODS = ("get", "post", "put", "patch", "delete")
CODE, STRONG = re.compile(r"`([^`]+)`"), re.compile(r"\*\*([^*]+)\*\*")


@bp.route("/docs")
def docs():
    """Every operation of the API with its parameters, body, answers and the schemas they use."""
    use_request_language()
    spec = current_app.extensions["portal_api"].spec.to_dict()
    operations = [
        (path, method, operation, [*item.get("parameters", []), *operation.get("parameters", [])])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    return render_template("api/docs.html", spec=spec, operations=operations)


@bp.app_template_filter("api_text")
def api_text(text: str | None) -> Markup:
    """The document's descriptions as they are written: `code` and **strong**, everything else escaped."""
    html = str(escape(text or ""))
    return Markup(STRONG.sub(r"<strong>\1</strong>", CODE.sub(r"<code>\1</code>", html)))  # noqa: S704 - escaped above
