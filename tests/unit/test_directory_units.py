"""The directory's pieces without services: text cursors, a card's initials and bio, the profile's window, the
booking form's message, and the Russian of every string of the new pages."""

from datetime import date
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from portal.blueprints.directory.forms import BookForm
from portal.blueprints.directory.queries import BIO_CHARS, SpecialistCard
from portal.blueprints.directory.routes import _first_day
from portal.pagination import decode_cursor, encode_cursor

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("key", ["anna sokolova", "", "ølga", "анна соколова", "👩‍⚕️ dr. who", "a" * 64, "%_.-="])
def test_text_cursor_round_trip(key):
    cursor = encode_cursor(key, 42)
    assert cursor.isascii() and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor, by_text=True) == (key, 42)


@pytest.mark.parametrize(
    "value",
    [None, "", "abc", "YQ.0", "YQ.99999999999", "YQ==.1", "Y!Q.1", "YQ.-1", "YQ.1.2", "AA.1", "Yq.1\n", "w4.1"],
)
def test_malformed_text_cursors_decode_to_nothing(value):
    # "AA" decodes to a NUL byte, "w4" to half a character: no page made them.
    assert decode_cursor(value, by_text=True) is None


def test_instant_and_text_cursors_do_not_mix():
    assert decode_cursor(encode_cursor("anna", 1)) is None
    assert decode_cursor("1796025600000000-2", by_text=True) is None


def card(name: str | None, username: str = "anna_s", bio: str | None = None) -> SpecialistCard:
    return SpecialistCard(7, username, name, "Psychologist", bio, (name or username).lower(), None)


@pytest.mark.parametrize(
    ("name", "username", "initials"),
    [
        ("Anna Sokolova", "x", "AS"),
        ("анна соколова", "x", "АС"),
        ("Elena Vasnetsova-Krylova", "x", "EV"),
        ("Cher", "x", "CH"),
        (None, "coach_max", "CM"),
        (None, "d.orlov", "DO"),
        (None, "zed", "ZE"),
    ],
)
def test_initials_of_the_avatar(name, username, initials):
    assert card(name, username).initials == initials


def test_the_avatar_colour_is_the_same_for_a_person_everywhere():
    assert card("Anna", "anna_s").avatar_tone == card(None, "anna_s").avatar_tone
    assert {card(None, f"user{n}").avatar_tone for n in range(60)} == set(range(6))


def test_the_bio_start_is_cut_after_a_word():
    short = "Ten years of practice."
    assert card("A", bio=short).bio_excerpt == short
    assert card("A", bio=None).bio_excerpt is None
    long = ("Sessions in English and Russian, online or in the office. " * 5)[: BIO_CHARS + 1]
    excerpt = card("A", bio=long).bio_excerpt
    assert excerpt.endswith("…") and len(excerpt) <= BIO_CHARS + 1
    assert long.startswith(excerpt[:-1]) and long[len(excerpt) - 1] == " "
    assert card("A", bio="line one\n\nline  two").bio_excerpt == "line one line two"


@pytest.mark.parametrize(
    ("value", "first"),
    [
        (None, date(2026, 10, 6)),
        ("2026-10-20", date(2026, 10, 20)),
        ("2026-10-01", date(2026, 10, 6)),  # the past: today
        ("2026-02-30", date(2026, 10, 6)),
        ("2026-1-5", date(2026, 10, 6)),
        ("٢٠٢٦-١٠-٢٠", date(2026, 10, 6)),
        ("9999-12-31", date(2199, 12, 1)),
    ],
)
def test_the_windows_first_day(value, first):
    assert _first_day(value, date(2026, 10, 6)) == first


@pytest.mark.parametrize(
    ("message", "valid", "saved"),
    [
        ("", True, ""),
        ("  Hello  ", True, "Hello"),
        ("one\r\ntwo", True, "one\ntwo"),
        ("é" * 500, True, "é" * 500),
        ("ab\r\n" * 166 + "ab", True, None),  # 500 characters as the browser counts them, 666 as sent
        ("x" * 501, False, None),
        ("nul\x00", False, None),
        ("tab\tand\nnew line", True, "tab\tand\nnew line"),
    ],
)
def test_the_message_field(app, message, valid, saved):
    with app.test_request_context(method="POST"):
        form = BookForm(formdata=MultiDict({"message": message}), meta={"csrf": False})
        assert form.validate() is valid, form.errors
        if saved is not None:
            assert form.message.data == saved
