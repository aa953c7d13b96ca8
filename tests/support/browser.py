"""A real browser (Playwright) going through the portal's pages."""

from axe_playwright_python.sync_playwright import Axe
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


# Each page of the screen tours is seen in both languages, on a desktop and on a phone.
LAYOUTS = [("en", "en-US", 1280), ("en", "en-US", 390), ("ru", "ru-RU", 1280), ("ru", "ru-RU", 390)]
LAYOUT_IDS = [f"{lang}-{width}" for lang, _, width in LAYOUTS]


def fits_the_screen(page) -> None:
    """Nothing makes the page scroll sideways (the widest culprits are named)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                  .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                  .map(el => el.tagName + '.' + el.className).slice(0, 5)"""
        )
        raise AssertionError(f"{page.url} scrolls sideways by {overflow}px: {wide}")


def all_labelled(page) -> None:
    """Every visible input, select and text area has a label (or an aria-label)."""
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]):not([type=submit]), select, textarea')]
              .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
              .map(el => el.name || el.id)"""
    )
    assert unlabelled == [], f"{page.url}: controls without a label: {unlabelled}"


def no_axe_violations(page) -> None:
    """axe-core finds no accessibility violation on the page as it is."""
    violations = Axe().run(page).response["violations"]
    assert violations == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in violations]


def check_page(page, lang: str, width: int) -> None:
    """Right language, nothing wider than the screen, every control labelled; on a desktop also axe (the markup
    is the same at every width: one audit is enough)."""
    assert page.locator("html").get_attribute("lang") == lang
    fits_the_screen(page)
    all_labelled(page)
    if width > 800:
        no_axe_violations(page)
