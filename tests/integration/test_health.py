"""/healthz and the error pages: friendly answers, never a traceback."""

import pytest

from portal import create_app
from tests.support.auth import isolated_client, post_login
from tests.support.services import closed_port


@pytest.fixture
def client(app):
    """Requests isolated from each other and from the test, like a real browser's."""
    return isolated_client(app)


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.fixture
def broken_app(app_config, session_clock):
    """Build an app whose database or Redis is an address nobody answers."""

    def build(**settings):
        return create_app({**app_config, "CLOCK": session_clock, **settings})

    return build


def test_healthz_is_503_when_redis_is_unreachable(broken_app):
    app = broken_app(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    response = isolated_client(app).get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded" and body["database"] == "ok" and body["redis"].startswith("error")


def test_without_a_database_pages_answer_503_and_healthz_says_so(broken_app):
    app = broken_app(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{closed_port()}/nowhere")
    browser = isolated_client(app)
    health = browser.get("/healthz")
    assert health.status_code == 503 and health.get_json()["database"].startswith("error")
    response = post_login(browser, "anna", "whatever-it-is")
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "<h1>Temporarily unavailable</h1>" in html and "Traceback" not in html


@pytest.mark.parametrize(
    ("path", "method", "status", "title"),
    [
        ("/no-such-page", "GET", 404, "Not found"),
        ("/logout", "GET", 405, "Not allowed"),
        ("/healthz", "POST", 405, "Not allowed"),
        ("/login", "POST", 400, "Form expired"),
    ],
)
def test_error_pages_are_friendly(client, path, method, status, title):
    response = client.open(path, method=method)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert f"<h1>{title}</h1>" in html and 'href="/"' in html
    assert "Traceback" not in html


def test_error_pages_speak_the_visitors_language(client):
    html = client.get("/no-such-page", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="ru">' in html and "<h1>Страница не найдена</h1>" in html


def test_an_unexpected_error_is_a_friendly_500(broken_app):
    app = broken_app()

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = isolated_client(app).get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "<h1>Something went wrong</h1>" in html
    assert "secret detail" not in html and "Traceback" not in html
