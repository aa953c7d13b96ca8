"""Whatever is typed after /feeds/: never a 5xx, and a feed only for its exact token."""

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import make_user
from tests.support.fuzz import FUZZ

HOSTILE = [
    "",
    ".",
    "..",
    "%00",
    "\x00" * 43,
    "A" * 43,
    "A" * 10_000,
    "' OR '1'='1' --",
    "../../etc/passwd",
    "\u202egnp.exe",
    "👩‍⚕️" * 11,
    "\ud7ff" * 43,
    "a b",
    "?x=1",
    "#frag",
    "tok.ics",
]


def near(token: str):
    """Strings one small step from a real token: a character changed, dropped or added, the case swapped."""
    position = st.integers(0, len(token) - 1)
    character = st.characters(exclude_categories=("Cs",))  # a lone surrogate has no UTF-8: no URL carries one
    return st.one_of(
        st.tuples(position, character).map(lambda p: token[: p[0]] + p[1] + token[p[0] + 1 :]),
        position.map(lambda i: token[:i] + token[i + 1 :]),
        st.tuples(position, character).map(lambda p: token[: p[0]] + p[1] + token[p[0] :]),
        st.just(token),
        st.just(token.swapcase()),
        st.just(" " + token),
        st.just(token + "\n"),
    )


@pytest.fixture
def token(db) -> str:
    """A live feed's token (one for the whole run of examples)."""
    return make_user("specialist").feed_token


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_odd_feed_addresses_never_fail(client, token, data):
    typed = data.draw(
        st.one_of(
            st.text(max_size=120),
            st.text(alphabet="ABCXYZabcxyz0189_-~.=+/", min_size=40, max_size=46),
            st.sampled_from(HOSTILE),
            near(token),
        ),
        label="typed",
    )
    safe = data.draw(st.sampled_from(["", "/", "/%", "/;:@&=+$,"]), label="left unescaped")
    response = client.get("/feeds/" + quote(typed, safe=safe) + ".ics")
    assert response.status_code < 500, typed
    if response.status_code == 200:
        assert typed == token and b"BEGIN:VCALENDAR" in response.get_data()
    else:
        assert b"BEGIN:VCALENDAR" not in response.get_data()
