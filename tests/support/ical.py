"""A second, independent RFC 5545 reader for the tests. It shares no code with `icalendar` and is strict about
what calendar apps rely on: CRLF line ends, lines of at most 75 octets folded with a space or tab, the content
line grammar, balanced BEGIN/END, the required properties of VCALENDAR and VEVENT and their allowed values,
UTC date-times, and TEXT values with their commas, semicolons and newlines escaped. Any breach raises
`InvalidCalendar` naming the line."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

NAME = re.compile(r"[A-Za-z0-9-]+")
PARAM_VALUE = re.compile(r'"[^"\x00-\x08\x0a-\x1f\x7f]*"|[^";:,\x00-\x08\x0a-\x1f\x7f]*')
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
UTC_DATETIME = re.compile(r"\d{8}T\d{6}Z")
TEXT_PROPERTIES = {"SUMMARY", "DESCRIPTION", "LOCATION", "COMMENT", "X-WR-CALNAME", "NAME"}
# VEVENT properties that may occur at most once (RFC 5545 §3.6.1).
ONCE = {
    "UID", "DTSTAMP", "DTSTART", "DTEND", "DURATION", "CLASS", "CREATED", "DESCRIPTION", "GEO", "LAST-MODIFIED",
    "LOCATION", "ORGANIZER", "PRIORITY", "SEQUENCE", "STATUS", "SUMMARY", "TRANSP", "URL", "RECURRENCE-ID",
}  # fmt: skip
EVENT_STATUSES = {"TENTATIVE", "CONFIRMED", "CANCELLED"}


class InvalidCalendar(AssertionError):
    """The data is not a valid RFC 5545 calendar."""


@dataclass
class Property:
    name: str
    params: dict[str, list[str]]
    value: str  # as written, escapes and all

    @property
    def text(self) -> str:
        """A TEXT value unescaped."""
        return unescape_text(self.value)


@dataclass
class Component:
    name: str
    properties: list[Property] = field(default_factory=list)
    children: list["Component"] = field(default_factory=list)

    def all(self, name: str) -> list[Property]:
        return [p for p in self.properties if p.name == name.upper()]

    def one(self, name: str) -> Property | None:
        found = self.all(name)
        return found[0] if found else None

    def value(self, name: str) -> str | None:
        found = self.one(name)
        if found is None:
            return None
        return found.text if found.name in TEXT_PROPERTIES else found.value

    def walk(self, name: str) -> list["Component"]:
        found = [self] if self.name == name.upper() else []
        for child in self.children:
            found.extend(child.walk(name))
        return found


def unfold(data: bytes) -> list[str]:
    """The logical lines of a calendar, after checking its physical lines."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidCalendar(f"not UTF-8: {error}") from None
    if not text.endswith("\r\n"):
        raise InvalidCalendar("the last line does not end with CRLF")
    logical: list[str] = []
    for number, line in enumerate(text[:-2].split("\r\n"), 1):
        if "\r" in line or "\n" in line:
            raise InvalidCalendar(f"line {number}: a bare CR or LF")
        if len(line.encode("utf-8")) > 75:
            raise InvalidCalendar(f"line {number}: longer than 75 octets")
        if CONTROL.search(line):
            raise InvalidCalendar(f"line {number}: a control character")
        if line[:1] in (" ", "\t"):
            if not logical:
                raise InvalidCalendar("the first line is a continuation")
            logical[-1] += line[1:]
        elif not line:
            raise InvalidCalendar(f"line {number}: empty")
        else:
            logical.append(line)
    return logical


def content_line(line: str) -> Property:
    """name *(";" param) ":" value — RFC 5545 §3.1."""
    found = NAME.match(line)
    if not found:
        raise InvalidCalendar(f"no property name: {line!r}")
    name, rest, params = found.group().upper(), line[found.end() :], {}
    while rest.startswith(";"):
        key = NAME.match(rest, 1)
        if not key or rest[key.end() : key.end() + 1] != "=":
            raise InvalidCalendar(f"a malformed parameter: {line!r}")
        values, position = [], key.end() + 1
        while True:
            value = PARAM_VALUE.match(rest, position)
            values.append(value.group().strip('"'))
            position = value.end()
            if rest[position : position + 1] != ",":
                break
            position += 1
        params[key.group().upper()] = values
        rest = rest[position:]
    if not rest.startswith(":"):
        raise InvalidCalendar(f"no ':' before the value: {line!r}")
    return Property(name, params, rest[1:])


def unescape_text(value: str) -> str:
    """A TEXT value (§3.3.11): only \\\\ \\; \\, \\n \\N escapes, and no bare ';' or ','."""
    out, position = [], 0
    while position < len(value):
        char = value[position]
        if char == "\\":
            following = value[position + 1 : position + 2]
            if following not in ("\\", ";", ",", "n", "N"):
                raise InvalidCalendar(f"a bad escape in TEXT: {value!r}")
            out.append("\n" if following in "nN" else following)
            position += 2
            continue
        if char in ";,":
            raise InvalidCalendar(f"an unescaped {char!r} in TEXT: {value!r}")
        out.append(char)
        position += 1
    return "".join(out)


def parse(data: bytes) -> Component:
    """The VCALENDAR in `data`, checked; raises InvalidCalendar."""
    stack: list[Component] = []
    root = None
    for line in unfold(data):
        prop = content_line(line)
        if prop.name == "BEGIN":
            component = Component(prop.value.upper())
            if stack:
                stack[-1].children.append(component)
            elif root is not None:
                raise InvalidCalendar("more than one top-level component")
            else:
                root = component
            stack.append(component)
        elif prop.name == "END":
            if not stack or stack[-1].name != prop.value.upper():
                raise InvalidCalendar(f"END:{prop.value} does not close the open component")
            stack.pop()
        elif not stack:
            raise InvalidCalendar(f"a property outside any component: {line!r}")
        else:
            if prop.name in TEXT_PROPERTIES:
                unescape_text(prop.value)
            stack[-1].properties.append(prop)
    if stack or root is None:
        raise InvalidCalendar("unbalanced BEGIN/END")
    check_calendar(root)
    return root


def utc_datetime(prop: Property | None, what: str) -> datetime:
    if (
        prop is None
        or not UTC_DATETIME.fullmatch(prop.value)
        or prop.params.get("VALUE", ["DATE-TIME"]) != ["DATE-TIME"]
    ):
        raise InvalidCalendar(f"{what} is not a UTC date-time: {prop}")
    return datetime.strptime(prop.value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def check_calendar(root: Component) -> None:
    """VCALENDAR (§3.4, §3.6): PRODID and VERSION:2.0 once each, at least one component; each VEVENT valid."""
    if root.name != "VCALENDAR":
        raise InvalidCalendar(f"the top-level component is {root.name}")
    for name in ("PRODID", "VERSION"):
        if len(root.all(name)) != 1:
            raise InvalidCalendar(f"VCALENDAR needs exactly one {name}")
    if root.value("VERSION") != "2.0":
        raise InvalidCalendar("VERSION is not 2.0")
    if not root.children:
        raise InvalidCalendar("a VCALENDAR needs at least one component")
    uids = set()
    for event in root.walk("VEVENT"):
        check_event(event, has_method=root.one("METHOD") is not None)
        uid = event.value("UID")
        if uid in uids:
            raise InvalidCalendar(f"UID {uid} twice in one calendar")
        uids.add(uid)


def check_event(event: Component, has_method: bool) -> None:
    """VEVENT (§3.6.1): UID and DTSTAMP, DTSTART without METHOD, single-valued properties once, values allowed."""
    for name in ONCE:
        if len(event.all(name)) > 1:
            raise InvalidCalendar(f"{name} more than once in a VEVENT")
    if not event.value("UID"):
        raise InvalidCalendar("a VEVENT without UID")
    utc_datetime(event.one("DTSTAMP"), "DTSTAMP")
    if event.one("DTSTART") is None and not has_method:
        raise InvalidCalendar("a VEVENT without DTSTART")
    start = utc_datetime(event.one("DTSTART"), "DTSTART")
    if event.one("DTEND") is not None:
        if event.one("DURATION") is not None:
            raise InvalidCalendar("both DTEND and DURATION")
        if utc_datetime(event.one("DTEND"), "DTEND") <= start:
            raise InvalidCalendar("DTEND is not after DTSTART")
    sequence = event.value("SEQUENCE")
    if sequence is not None and not sequence.isdigit():
        raise InvalidCalendar(f"SEQUENCE is not a non-negative integer: {sequence}")
    if event.value("STATUS") not in (None, *EVENT_STATUSES):
        raise InvalidCalendar(f"STATUS {event.value('STATUS')} is not one of a VEVENT's")
    if event.value("TRANSP") not in (None, "OPAQUE", "TRANSPARENT"):
        raise InvalidCalendar(f"TRANSP {event.value('TRANSP')}")
    for name in ("ORGANIZER", "ATTENDEE"):
        for prop in event.all(name):
            if not prop.value.lower().startswith("mailto:"):
                raise InvalidCalendar(f"{name} is not a mailto: address")
    url = event.value("URL")
    if url is not None and not re.fullmatch(r"https?://[^\s\"<>]+", url):
        raise InvalidCalendar(f"URL {url}")
