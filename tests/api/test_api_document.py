"""The OpenAPI 3.1 document and the docs page: generated from the schemas that validate the input, readable on
this site under its strict CSP (no script, no inline style, nothing from elsewhere), in both languages."""

import re

from tests.factories import make_user
from tests.support.api import PROBLEM, assert_problem, make_token

OPERATIONS = 15


def test_the_document_is_openapi_3_1_and_describes_every_operation(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token.",
    }
    operations = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "patch", "delete")
    ]
    assert len(operations) == OPERATIONS
    for method, path, operation in operations:
        assert operation["x-roles"] and operation["summary"], (method, path)
        for status in ("401", "403", "429", "default"):
            assert status in operation["responses"], (method, path, status)
    for name in ("UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "UNPROCESSABLE_ENTITY", "DEFAULT_ERROR"):
        content = document["components"]["responses"][name]["content"]
        assert content == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}, name


def test_the_document_says_what_the_validation_enforces(client, api):
    """One schema, two uses: the limits the document states are the ones the input is held to."""
    document = client.get("/api/v1/openapi.json").get_json()
    slot_input = document["components"]["schemas"]["SlotInput"]
    assert slot_input["required"] == ["ends_at", "starts_at"] and slot_input["additionalProperties"] is False
    assert slot_input["properties"]["note"]["maxLength"] == 255
    assert slot_input["properties"]["repeat_weeks"] == {
        "type": "integer",
        "default": 0,
        "minimum": 0,
        "maximum": 12,
        "description": "Also on each of the following N weeks (0–12).",
    }
    token = make_token(make_user("specialist"))
    body = {"starts_at": "2031-01-01T10:00:00Z", "ends_at": "2031-01-01T11:00:00Z", "note": "x" * 256}
    problem = assert_problem(api.post("/api/v1/me/slots", token, json=body), 422)
    assert list(problem["errors"]) == ["note"]


def test_the_docs_page_lists_every_operation_without_scripts_or_outside_assets(client):
    response = client.get("/api/v1/docs", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "an asset from elsewhere"
    assert html.count('class="card api-operation"') == OPERATIONS
    for text in ("GET /api/v1/slots", "POST /api/v1/slots/{slot_id}/request", "PATCH /api/v1/me/slots/{slot_id}"):
        assert text in html
    assert 'id="schema-Problem"' in html and 'href="/api/v1/openapi.json"' in html
    assert '<html lang="en">' in html


def test_the_docs_page_speaks_russian(client):
    html = client.get("/api/v1/docs", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="ru">' in html and "Операции" in html and "Схемы" in html


def test_a_cursor_out_of_any_list_is_the_first_page(api, auth, client):
    """A well-formed cursor far past the year 9999 once overflowed into a 500 (pages and API alike)."""
    user = make_user("client")
    token = make_token(user)
    assert api.get("/api/v1/me/consultations?before=865970461813130396-1", token).status_code == 200
    auth.login_as(user)
    assert client.get("/client/consultations?before=865970461813130396-1").status_code == 200
