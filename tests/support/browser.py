"""A real browser (Playwright) going through the portal's pages."""

from playwright.sync_api import expect

from tests.factories import PASSWORD


def submit_login(page, username: str, password: str = PASSWORD) -> None:
    """Fill in the login form already on the screen and send it with Enter."""
    page.locator("#login").fill(username)
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")


def log_in(page, username: str, password: str = PASSWORD, *, signed_in: bool = True) -> None:
    """Log in through the login page; wait until the page shows the logout button, or (`signed_in=False`, for
    a login that is meant to be refused) until the answer has loaded."""
    page.goto("/login")
    if signed_in:
        submit_login(page, username, password)
        expect(page.locator("form[action='/logout']")).to_be_attached()
        return
    with page.expect_navigation():
        submit_login(page, username, password)
