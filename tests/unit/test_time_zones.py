"""The time zone select: canonical zones only, grouped by region, one label everywhere."""

from zoneinfo import available_timezones

import pytest

from portal.i18n import is_known_timezone, is_timezone, timezone_names, zone_aliases, zone_label

DEPRECATED = [
    "Africa/Asmera",
    "America/Argentina/ComodRivadavia",
    "America/Buenos_Aires",
    "Asia/Calcutta",
    "Asia/Saigon",
    "Europe/Kiev",
    "US/Eastern",
    "US/Pacific",
    "Etc/GMT+3",
    "Etc/UTC",
    "GMT",
    "EST5EDT",
    "Canada/Eastern",
    "Zulu",
]
MAIN = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "Europe/Kyiv",
    "Europe/Oslo",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Asia/Vladivostok",
    "Asia/Ho_Chi_Minh",
    "Africa/Asmara",
    "Africa/Lagos",
    "Australia/Sydney",
    "Pacific/Auckland",
]


@pytest.mark.parametrize("name", DEPRECATED)
def test_deprecated_aliases_are_not_offered(name):
    assert name not in timezone_names() and not is_timezone(name)


@pytest.mark.parametrize("name", MAIN)
def test_the_main_zones_are_offered(name):
    assert name in timezone_names() and is_timezone(name)


def test_the_list_is_utc_then_the_canonical_zones_sorted():
    names = timezone_names()
    assert names[0] == "UTC" and list(names[1:]) == sorted(names[1:])
    assert len(set(names)) == len(names)
    assert 350 < len(names) < 500  # about one or more per country, not the 600 names with aliases
    assert set(names) <= available_timezones()
    assert all("/" in name for name in names[1:])
    assert not any(name.startswith(("Etc/", "US/", "SystemV/")) for name in names)


def test_an_older_accounts_zone_is_still_known():
    assert is_known_timezone("US/Eastern") and is_known_timezone("Europe/Kiev")
    assert not is_known_timezone("Mars/Olympus_Mons")


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("America/New_York", "America/New York"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos Aires"),
        ("Europe/Berlin", "Europe/Berlin"),
        ("UTC", "UTC"),
    ],
)
def test_one_label_per_zone(name, label):
    assert zone_label(name) == label


def test_the_select_groups_zones_by_region(app):
    from portal.blueprints.auth.forms import timezone_choices

    with app.test_request_context(headers={"Accept-Language": "en"}):
        groups = timezone_choices()
        kept = timezone_choices(kept="US/Eastern")
        current = timezone_choices(kept="Europe/Berlin")
    assert list(groups)[:3] == ["Coordinated Universal Time", "Africa", "America"]
    assert "Europe" in groups and "Pacific Ocean" in groups
    assert ("America/New_York", "America/New York") in groups["America"]
    assert all(value.startswith("Europe/") for value, _ in groups["Europe"])
    assert all(label == zone_label(value) for options in groups.values() for value, label in options)
    assert sum(len(options) for options in groups.values()) == len(timezone_names())
    # An account whose zone is no longer offered keeps it selectable, under its own heading.
    assert kept["Other zones"] == [("US/Eastern", "US/Eastern")]
    assert current == groups


def test_older_names_browsers_report_lead_to_an_offered_zone():
    aliases = zone_aliases()
    assert aliases["Asia/Calcutta"] == "Asia/Kolkata" and aliases["Europe/Kiev"] == "Europe/Kyiv"
    assert aliases["Asia/Saigon"] == "Asia/Ho_Chi_Minh" and aliases["US/Eastern"] == "America/New_York"
    assert set(aliases.values()) <= set(timezone_names()) and not set(aliases) & set(timezone_names())


def test_the_registration_select_carries_the_older_names_for_the_script(app):
    from portal.blueprints.auth.forms import RegisterForm

    with app.test_request_context():
        html = str(RegisterForm().timezone())
    assert 'data-detect-timezone="true"' in html and "&#34;Asia/Calcutta&#34;:&#34;Asia/Kolkata&#34;" in html
