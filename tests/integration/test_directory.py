"""The directory /specialists: active specialists only, by name, with search, specialty and next free time."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.models import User
from tests.factories import make_consultation, make_slot, make_user

NOW = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)


def cards(html: str) -> list[str]:
    """The usernames of the cards, in page order."""
    return re.findall(r'<li class="card specialist-card" id="specialist-([^"]+)"', html)


def card(html: str, username: str) -> str:
    start = html.index(f'id="specialist-{username}"')
    return html[start : html.index("</li>", start)]


def options(html: str) -> list[tuple[str, str]]:
    select_html = html[html.index('<select id="specialty"') : html.index("</select>")]
    return re.findall(r'<option (?:selected )?value="([^"]*)"[^>]*>([^<]*)</option>', select_html)


def test_anonymous_visitors_see_active_specialists_only_by_name(client, frozen):
    make_user("specialist", username="zed", display_name="Anna Sokolova", specialty="Psychologist")
    make_user("specialist", username="boris", specialty="Lawyer")
    make_user("specialist", username="carla", display_name="carla Diaz", specialty="psychologist")
    make_user("specialist", username="blocked_doc", blocked=True)
    make_user("specialist", username="new_doc", confirmed=False)
    make_user("client", username="a_client")
    make_user("admin", username="an_admin")

    response = client.get("/specialists")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # By name ignoring case: Anna Sokolova (zed), boris, carla Diaz.
    assert cards(html) == ["zed", "boris", "carla"]
    anna = card(html, "zed")
    assert ">Anna Sokolova</a>" in anna and "@zed" in anna and "Psychologist" in anna
    assert 'href="/specialists/zed"' in anna
    assert ">AS</span>" in anna  # the initials avatar
    assert "No free times" in anna
    # The specialty select: Any specialty, then each specialty of active specialists once, ignoring case.
    assert options(html) == [("", "Any specialty"), ("Lawyer", "Lawyer"), ("Psychologist", "Psychologist")]


def test_each_card_shows_the_next_free_time_by_the_finders_rule(client, frozen, auth):
    doc = make_user("specialist", username="doc", bio="Ten years of practice. " * 20)
    other = make_user("client", username="other")
    gone = make_slot(doc, starts_at=NOW + timedelta(hours=1), commit=False)
    gone.deleted_at = NOW
    make_slot(doc, starts_at=NOW - timedelta(minutes=10))  # started
    taken = make_slot(doc, starts_at=NOW + timedelta(hours=2))
    make_consultation(taken, other, status="accepted")
    asked = make_slot(doc, starts_at=NOW + timedelta(hours=3))  # a pending request leaves it free
    make_consultation(asked, other)
    make_slot(doc, starts_at=NOW + timedelta(days=3))

    html = client.get("/specialists").get_data(as_text=True)
    doc_card = card(html, "doc")
    assert "Next free time" in doc_card
    assert '<time datetime="2026-10-05T12:30+00:00">' in doc_card
    # The start of the bio, cut at a word.
    bio = re.search(r'<p class="bio">([^<]*)</p>', doc_card).group(1)
    assert bio.endswith("…") and len(bio) <= 161 and bio.startswith("Ten years of practice.")

    # A logged-in client in Vladivostok sees it in their zone.
    me = make_user("client", timezone="Asia/Vladivostok")
    auth.login_as(me)
    html = client.get("/specialists").get_data(as_text=True)
    assert '<time datetime="2026-10-05T22:30+10:00">' in card(html, "doc")


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("SOKOL", ["anna"]),
        ("ann", ["anna", "jo"]),
        ("bo_", ["bo_ris"]),  # _ is a character, not a wildcard
        ("%", []),
        ("nobody", []),
    ],
)
def test_search_matches_name_or_username_anywhere_in_any_case(client, frozen, query, found):
    make_user("specialist", username="anna", display_name="Anna Sokolova")
    make_user("specialist", username="jo", display_name="Joanna Smith")
    make_user("specialist", username="bo_ris")
    make_user("specialist", username="bobby")
    html = client.get("/specialists", query_string={"q": query}).get_data(as_text=True)
    assert cards(html) == found
    if not found:
        assert "No specialists match these filters." in html


def test_specialty_filter_keeps_the_choice_and_combines_with_search(client, frozen):
    make_user("specialist", username="anna", specialty="Psychologist")
    make_user("specialist", username="anton", specialty="psychologist ")
    make_user("specialist", username="alex", specialty="Lawyer")
    html = client.get("/specialists", query_string={"specialty": "Psychologist"}).get_data(as_text=True)
    assert cards(html) == ["anna"]
    assert '<option selected value="Psychologist">' in html
    html = client.get("/specialists", query_string={"specialty": "Lawyer", "q": "AL"}).get_data(as_text=True)
    assert cards(html) == ["alex"]
    # A specialty nobody active has any more still filters (and finds nobody), shown as chosen.
    html = client.get("/specialists", query_string={"specialty": "Astrologer"}).get_data(as_text=True)
    assert cards(html) == []
    assert '<option selected value="Astrologer">' in html


def test_keyset_pages_walk_every_specialist_once_both_ways(client, frozen, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    names = ["Ølga", "anna", "Boris", "boris", "Chen", "dara", "Émile", "fred", "Gül", "hana", "Ivan"]
    for n, name in enumerate(names):
        make_user("specialist", username=f"s{n:02d}", display_name=name, commit=False)
    _db.session.commit()
    expected = list(
        _db.session.scalars(
            select(User.username).order_by(func.lower(func.coalesce(User.display_name, User.username)), User.id)
        )
    )
    seen, pages, url = [], [], "/specialists"
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(html)
        seen += cards(html)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == expected
    assert len(pages) == 3
    back = re.search(r'href="([^"]+)" rel="prev"', pages[-1]).group(1).replace("&amp;", "&")
    assert cards(client.get(back).get_data(as_text=True)) == expected[4:8]


@pytest.mark.parametrize(
    "args",
    [
        {"after": "not-a-cursor"},
        {"before": "%%%.1"},
        {"after": "AA.0"},
        {"after": "1796025600000000-2"},  # an instant cursor of another list
        {"after": "AA.99999999999"},
    ],
)
def test_cursors_that_no_page_made_show_the_first_page(client, frozen, args):
    make_user("specialist", username="anna")
    response = client.get("/specialists", query_string=args)
    assert response.status_code == 200
    assert cards(response.get_data(as_text=True)) == ["anna"]


def test_bad_filters_are_answered_with_the_form_and_a_message(client, frozen):
    make_user("specialist", username="anna")
    response = client.get("/specialists", query_string={"q": "x" * 65})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="q-error"' in html and "Use at most 64 characters." in html
    assert cards(html) == ["anna"]  # the list is shown unfiltered
    response = client.get("/specialists", query_string={"q": "an\x00na"})
    assert response.status_code == 422


def test_the_landing_page_and_the_navigation_lead_to_the_directory(client, frozen):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/specialists">Find a specialist</a>' in html
    assert re.search(r'<nav[^>]*>.*href="/specialists"', html, re.S)


def test_the_directory_in_russian(client, frozen):
    make_user("specialist", username="anna", display_name="Анна Соколова", specialty="Психолог")
    html = client.get("/specialists", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert "Найти специалиста" in html and "Свободного времени нет" in html and ">АС</span>" in html
    assert options(html)[0] == ("", "Любая специальность")
