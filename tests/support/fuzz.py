"""Hostile form input for the fuzzing proofs: strategies, raw form encoding, database fingerprints, a form poster."""

import functools
import itertools
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import text
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from portal.extensions import db

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

MISSING = "<missing>"  # a field left out of the submission altogether

RTL_EMOJI_COMBINING = [
    "مرحبا بالعالم",
    "שלום\u200f עולם",
    "\u202egnp.exe",
    "👩‍⚕️🩺🧠",
    "🏳️‍🌈" * 20,
    "e\u0301\u0308\u0327\u0345",
    "Z̴̡̛a̸͎l̶g̷o̵",
    "ﬀ İ ß ǅ",
    "\u200b\u200c\u200d\ufeff",
    "Ωmega ＡＢＣ ١٢٣",
]
NUMBERISH = [
    "-1",
    "0",
    "00",
    "2147483648",
    str(2**63),
    str(-(2**63)),
    "1e9",
    "NaN",
    "inf",
    "0x10",
    " 5 ",
    "٣",
    "５",
    "1.5",
]
DATES = [
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-01",
    "20261215",
    "2026-12-15T10:00",
    "15.12.2026",
    "-2026-01-01",
]
TIMES = ["24:00", "99:99", "23:59:60", "-01:00", "12:60", "1:5", "12:00:00.5", "12h30", "00:00"]

_char_text = st.text(max_size=60)
_controls = st.text(alphabet=st.characters(categories=["Cc"]), min_size=1, max_size=6)
_surrogates = st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=4)
_huge = st.builds(
    lambda c, n: c * n, st.sampled_from(["a", "я", "😀", "\u0301", "7", " ", "%"]), st.integers(10_000, 12_000)
)

# Any hostile text: empty, arbitrary Unicode, RTL/emoji/combining marks, control characters and NUL, lone
# surrogates (sent as their raw UTF-8-style bytes), invalid UTF-8, 10 kB blobs, numbers, dates and times of the edge.
hostile = st.one_of(
    st.just(""),
    _char_text,
    st.sampled_from(RTL_EMOJI_COMBINING),
    st.builds("".join, st.lists(st.one_of(_char_text, _controls, st.just("\x00")), min_size=1, max_size=3)),
    st.builds(lambda a, b: a + b, _char_text, _surrogates),
    st.binary(min_size=1, max_size=12),
    _huge,
    st.sampled_from(NUMBERISH + DATES + TIMES),
)


def pick(*values):
    """One of these values, as a strategy."""
    return st.sampled_from(values)


spoilt_value = st.one_of(hostile, hostile, st.lists(hostile, min_size=2, max_size=3), st.just(MISSING))

extra_fields = st.dictionaries(
    st.one_of(st.sampled_from(["id", "user_id", "role", "is_blocked", "status", "specialist_id", "submit"]), hostile),
    hostile,
    max_size=3,
)


@st.composite
def form(draw, fields: dict, extra: bool = True):
    """A submission: some fields spoilt (hostile, repeated or left out), the others valid, plus stray extra fields."""
    names = list(fields)
    some = st.sets(st.sampled_from(names), min_size=1, max_size=len(names)) if names else st.just(set())
    spoilt = draw(st.one_of(st.just(set()), some, some))  # a third of the submissions are valid
    data = {name: draw(spoilt_value if name in spoilt else fields[name]) for name in names}
    if extra:
        data = {**{k: v for k, v in draw(extra_fields).items() if k not in data and k != "csrf_token"}, **data}
    return data


def _raw(item) -> bytes | str:
    return item.encode("utf-8", "surrogatepass") if isinstance(item, str) else item


def quoted(item) -> str:
    """A path segment or query value made of any text or bytes."""
    return quote(_raw(item if isinstance(item, str | bytes) else str(item)), safe="")


def encode(data: dict) -> str:
    """URL-encode a submission; lists become repeated keys, MISSING fields are left out, surrogates go as bytes."""
    pairs = []
    for key, val in data.items():
        if val is MISSING:
            continue
        for item in val if isinstance(val, list) else [val]:
            pairs.append((_raw(key), _raw(item)))
    return urlencode(pairs)


@functools.lru_cache(maxsize=4)
def received(body: str):
    """The form exactly as the server parses it (werkzeug's own decoding of the body)."""
    environ = EnvironBuilder(method="POST", data=body, content_type="application/x-www-form-urlencoded").get_environ()
    return Request(environ).form


def cleaned(body: str, name: str) -> str | None:
    """What a stripped text field holds after parsing: its first value, stripped (None when absent)."""
    values = received(body).getlist(name)
    return values[0].strip() if values else None


TABLES = ("users", "slots", "consultations", "moderation_log", "outbox_emails", "auth_tokens", "account_email_requests")


def fingerprint() -> dict:
    """Row count and a digest of every row of every table: any write at all changes it."""
    db.session.remove()
    parts = " UNION ALL ".join(
        f"SELECT '{t}', count(*), md5(coalesce(string_agg(x::text, '|' ORDER BY x.id), '')) FROM {t} x" for t in TABLES
    )
    rows = db.session.execute(text(parts)).all()
    db.session.remove()
    return {name: (count, digest) for name, count, digest in rows}


_addresses = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))


class Poster:
    """Posts raw bodies with one CSRF token fetched once; each post from a new network address (no throttling)."""

    def __init__(self, client, token_page: str):
        self.client = client
        self.token_page = token_page
        self.refresh()

    def refresh(self) -> None:
        self.token = self.client.csrf_token(self.token_page)

    def post(self, url: str, data: dict):
        data = {"csrf_token": self.token, **data} if "csrf_token" not in data else data
        body = encode(data)
        response = self.client.post(
            url,
            data=body,
            content_type="application/x-www-form-urlencoded",
            environ_base={"REMOTE_ADDR": next(_addresses)},
        )
        assert response.status_code < 500, (url, response.status_code, body[:300])
        return response, body

    def get(self, url: str, params: dict):
        response = self.client.get(f"{url}?{encode(params)}", environ_base={"REMOTE_ADDR": next(_addresses)})
        assert response.status_code < 500, (url, response.status_code, encode(params)[:300])
        return response

    def flashes(self) -> list[tuple[str, str]]:
        """The flash messages the last redirect left, taken out of the session (cookies stay small)."""
        with self.client.session_transaction() as session:
            return session.pop("_flashes", [])


def shows_form_error(response) -> bool:
    """The page answers with the form and a message: next to a field, or above the form."""
    html = response.get_data(as_text=True)
    return 'class="field-error"' in html or 'role="alert"' in html or "alert-error" in html


def refused_cleanly(response, before: dict, statuses: tuple) -> None:
    """A refused submission: one of `statuses`, the form again with its message when 422, and nothing written."""
    assert response.status_code in statuses, response.status_code
    if response.status_code == 422:
        assert shows_form_error(response)
    assert fingerprint() == before


def get_never_writes(poster, url: str, params: dict, tally):
    """GET a filter form: the page (200) or the form with its message (422), and nothing written either way."""
    before = fingerprint()
    response = poster.get(url, params)
    assert response.status_code in (200, 422), response.status_code
    if response.status_code == 422:
        assert shows_form_error(response)
    tally["refused" if response.status_code == 422 else "accepted"] += 1
    assert fingerprint() == before
    return response


def ident(own, *others):
    """An id for a URL: the intended one (two times in three), another's, or negative, zero, huge, any text."""
    odd = st.one_of(st.sampled_from(others), st.sampled_from([*NUMBERISH, "abc", "1;DROP TABLE slots"]), hostile)
    return st.integers(0, 2).flatmap(lambda n: st.just(own) if n else odd)


def on_site(location: str) -> bool:
    """A redirect that stays on this site."""
    return location.startswith("/") and not location.startswith(("//", "/\\"))


def button(poster, url: str, data: dict, tally) -> str | None:
    """POST a button form: the body sent when it succeeded (a redirect with a success message); otherwise None,
    after checking the refusal wrote nothing at all and a refused form shows why."""
    before = fingerprint()
    response, body = poster.post(url, data)
    assert response.status_code in (303, 302, 200, 422, 404, 400), response.status_code
    redirected = response.status_code in (302, 303)
    assert not redirected or on_site(response.location), response.location
    categories = {category for category, _ in poster.flashes()} if redirected else set()
    if "success" in categories:
        tally["accepted"] += 1
        return body
    tally["refused"] += 1
    assert not redirected or categories, f"{url} refused without a word"
    assert response.status_code != 422 or shows_form_error(response)
    assert fingerprint() == before
    return None
