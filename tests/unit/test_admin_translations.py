"""Every string of the admin area (pages, charts, export, email kinds, the blocked page) has its Russian."""

from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *sorted((ROOT / "portal" / "blueprints" / "admin").glob("*.py")),
    *sorted((ROOT / "portal" / "templates" / "admin").glob("*.html")),
    ROOT / "portal" / "templates" / "errors" / "blocked.html",
    ROOT / "portal" / "words.py",
    ROOT / "portal" / "access.py",
]
KEYWORDS = {
    "_": None,
    "gettext": None,
    "_l": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2),
}


def _messages(path: Path) -> set:
    method = "python" if path.suffix == ".py" else "jinja2.ext:babel_extract"
    found = set()
    for _, message, _, context in extract_from_file(method, str(path), keywords=KEYWORDS):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


def _translated() -> set:
    found = set()
    for path in sorted((ROOT / "portal" / "translations").glob("*/ru/LC_MESSAGES/messages.po")):
        with path.open("rb") as handle:
            found |= {(m.context, m.id) for m in read_po(handle) if m.id and m.string and not m.fuzzy}
    return found


def test_every_admin_string_has_a_russian_translation():
    missing = sorted({m for path in SOURCES for m in _messages(path)} - _translated(), key=str)
    assert missing == []
