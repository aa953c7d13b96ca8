"""Request bodies over MAX_CONTENT_LENGTH (1 MB) are refused with a friendly 413 before they are read."""

import socket
from http.client import HTTPResponse
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.models import User
from tests.proof.http import Gunicorn, server_env
from tests.support.auth import isolated_client, registration

TWO_MB = 2 * 1024 * 1024


def test_a_two_megabyte_form_gets_the_friendly_413_page(app, db):
    browser = isolated_client(app)
    form = registration(bio="x" * TWO_MB)
    response = browser.post("/register", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "<h1>Too large</h1>" in html and "Please go back, shorten it and try again." in html
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_the_413_page_speaks_russian(app):
    response = isolated_client(app).post("/login", data={"login": "x" * TWO_MB}, headers={"Accept-Language": "ru"})
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert '<html lang="ru">' in html and "<h1>Слишком много данных</h1>" in html


def test_a_form_under_the_limit_is_read_as_usual(app):
    response = isolated_client(app).post("/login", data={"login": "x" * 100_000, "password": "y"})
    assert response.status_code == 400  # read, then refused for its missing CSRF token
    assert "<h1>Form expired</h1>" in response.get_data(as_text=True)


@pytest.fixture
def production(app_config, tmp_path):
    server = Gunicorn(server_env(app_config), tmp_path).start()
    yield server
    server.stop()


def post_headers_only(url: str, path: str, declared: int, body: bytes) -> HTTPResponse:
    """Announce a `declared`-byte form but send only `body`, then wait for the answer.

    A server that read the whole body first would wait for bytes that never come (until this socket times out).
    """
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {declared}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    response = HTTPResponse(sock)
    response.begin()
    response.body = response.read().decode()
    sock.close()
    return response


@pytest.mark.slow
def test_gunicorn_answers_413_without_reading_the_body(production):
    response = post_headers_only(production.url, "/login", TWO_MB, b"login=" + b"x" * 1000)
    assert response.status == 413
    assert "<h1>Too large</h1>" in response.body
    assert production.errors() == []
