"""Reading what a user sees on a rendered page."""

import html
import re


def field_error(page: str, field: str) -> str:
    """The error text shown next to a form field ('' if none)."""
    match = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1).strip()) if match else ""
