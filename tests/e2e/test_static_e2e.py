"""In Chromium, under the strict CSP: the pages load their hashed CSS and JS, gzipped and cached for a year."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

HASHED_RE = re.compile(r"/static/[\w/-]+\.[0-9a-f]{12}\.(css|js|svg)$")


def test_the_register_page_is_styled_and_scripted_by_its_hashed_files(page):
    static, refused = [], []
    page.on("response", lambda response: "/static/" in response.url and static.append(response))
    page.on("console", lambda message: message.type == "error" and refused.append(message.text))
    page.goto("/register")
    page.wait_for_load_state("load")

    # Without portal.css Chromium gives the body an 8px margin and a white background.
    body = page.evaluate("() => { const s = getComputedStyle(document.body); return [s.margin, s.backgroundColor]; }")
    assert body == ["0px", "rgb(245, 247, 251)"]
    # auth.css, the page's own sheet, applies too.
    assert page.evaluate("getComputedStyle(document.querySelector('.auth-switch')).display") == "flex"
    # portal.js ran: the specialist-only fields stay hidden while the role is "client".
    expect(page.locator("fieldset[data-specialist-only]")).to_be_hidden()

    assert refused == []
    loaded = {re.sub(r"\.[0-9a-f]{12}\.", ".", response.url.split("/static/")[1]) for response in static}
    assert {"css/portal.css", "css/auth.css", "js/portal.js"} <= loaded
    for response in static:
        headers = response.all_headers()
        assert HASHED_RE.search(response.url), response.url
        assert response.status == 200, response.url
        assert headers["cache-control"] == "public, max-age=31536000, immutable", response.url
        if response.url.endswith((".css", ".js")):
            assert headers["content-encoding"] == "gzip", response.url
