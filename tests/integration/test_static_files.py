"""Static files as a browser gets them: hashed names in the pages, cached for a year, gzipped, CSP headers kept."""

import gzip
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "portal" / "static"
ASSET_RE = re.compile(r'(?:href|src)="(/static/[^"]+)"')
HASHED_RE = re.compile(r"/static/(?P<dir>(?:[\w-]+/)*)(?P<stem>[\w-]+)\.[0-9a-f]{12}(?P<ext>\.\w+)")
TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


def plain_name(url: str) -> str:
    """The name in portal/static that a hashed URL stands for."""
    match = HASHED_RE.fullmatch(url)
    assert match, f"{url} has no content hash in its name"
    return f"{match['dir']}{match['stem']}{match['ext']}"


def source_of(url: str) -> bytes:
    """The bytes of the file a hashed URL stands for."""
    return (STATIC / plain_name(url)).read_bytes()


def get(client, url: str, **headers):
    """GET, reading the body and closing the file WhiteNoise opened."""
    with client.get(url, headers=headers) as response:
        response.body = response.get_data()
    return response


@pytest.fixture
def login_assets(client):
    html = client.get("/login").get_data(as_text=True)
    return ASSET_RE.findall(html)


def test_pages_link_their_css_js_and_icon_by_hashed_names(login_assets):
    assert sorted(plain_name(url) for url in login_assets) == [
        "css/auth.css",
        "css/portal.css",
        "favicon.svg",
        "js/portal.js",
    ]


def test_a_hashed_file_is_cached_for_a_year_with_its_type_and_the_security_headers(client, login_assets):
    for url in login_assets:
        response = get(client, url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
        assert response.mimetype == TYPES[Path(url).suffix], url
        if response.mimetype.startswith("text/"):
            assert response.mimetype_params["charset"] == "utf-8", url
        assert response.body == source_of(url), url
        assert "Content-Encoding" not in response.headers, url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_css_and_js_come_gzipped_to_a_browser_that_accepts_it(client, login_assets):
    scripts_and_styles = [url for url in login_assets if url.endswith((".css", ".js"))]
    assert len(scripts_and_styles) == 3
    for url in scripts_and_styles:
        response = get(client, url, **{"Accept-Encoding": "gzip, deflate, br"})
        assert response.status_code == 200, url
        assert response.headers["Content-Encoding"] == "gzip", url
        assert response.headers["Vary"] == "Accept-Encoding", url
        assert int(response.headers["Content-Length"]) == len(response.body) < len(source_of(url))
        assert gzip.decompress(response.body) == source_of(url), url


def test_a_revisit_with_the_etag_gets_304(client, login_assets):
    url = login_assets[0]
    etag = get(client, url).headers["ETag"]
    response = get(client, url, **{"If-None-Match": etag})
    assert response.status_code == 304 and response.body == b""


def test_plain_names_still_work_but_are_revalidated(client):
    response = get(client, "/static/css/portal.css")
    assert response.status_code == 200
    assert response.body == (STATIC / "css" / "portal.css").read_bytes()
    assert response.headers["Cache-Control"] == "no-cache"  # the browser asks again, with its ETag


@pytest.mark.parametrize(
    "url", ["/static/css/missing.css", "/static/css/portal.000000000000.css", "/static/css/../../config.py"]
)
def test_an_unknown_static_file_is_404(client, url):
    response = get(client, url)
    assert response.status_code == 404
    assert "<h1>" in response.body.decode()
