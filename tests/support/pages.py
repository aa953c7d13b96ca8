"""Reading what a user sees on a rendered page."""

import html
import re


def field_error(page: str, field: str) -> str:
    """The error text shown next to a form field ('' if none)."""
    match = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1).strip()) if match else ""


def form_alert(page: str) -> str:
    """The form-level error box text ('' if none)."""
    match = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)).strip()) if match else ""


def flashes(page: str) -> str:
    """The text of every flashed message on the page."""
    return html.unescape(" ".join(re.findall(r'<div class="alert alert-\w+">(.*?)</div>', page, re.S)))
