"""The pages under test: finding their URLs like a person would, and measuring each with wrk."""

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench import common
from bench.web import USER_AGENT, Session, parse_page

LUA = Path(__file__).resolve().parent / "wrk.lua"
SPECIALTY = "Psychologist"
ADMIN_QUERY = "client123"  # client12300 … client12399 at scale 1, client123000 … client123999 at 10: 0.5 %
ADMIN_LOOKUP = f"{common.CLIENT}@example.com"  # one person looked up by email: one match at any scale
ADJACENT_BASELINE_SECONDS = 3


@dataclass
class Page:
    key: str
    title: str
    path: str
    session: Session | None  # None: anonymous
    p99_target_ms: float = 150
    ratio_target: float = 0.15
    notes: list = field(default_factory=list)
    result: dict = field(default_factory=dict)


def _field_names(form) -> list[str]:
    return [*form.selects, *(n for n, _ in form.fields if n not in form.selects)]


def _filter_form(html: str, path: str, wanted):
    """The page's GET form and the name of its first field for which `wanted(name)` holds."""
    forms, _ = parse_page(html, path)
    for form in forms:
        names = [n for n in _field_names(form) if wanted(n)]
        if form.method.lower() == "get" and names:
            return form, names[0]
    return None, None


def _submit_get(form, path: str, overrides: dict) -> str:
    """The URL a browser opens when this GET form is submitted with these values."""
    data = {name: value for name, value in form.submit_fields()}
    data.update(overrides)
    return (form.action.split("?")[0] or path) + "?" + urlencode(data)


def _specialty_path(client: Session, first_html: str, page: Page) -> str:
    form, name = _filter_form(first_html, "/client/slots", lambda n: "specialty" in n)
    if form is None:
        page.notes.append("no filter form with a specialty field found; used ?specialty=")
        return "/client/slots?" + urlencode({"specialty": SPECIALTY})
    value = SPECIALTY
    if name in form.selects:
        options = form.selects[name]
        value = next((v for v, text in options if SPECIALTY in (v, text)), options[-1][0] if options else SPECIALTY)
    return _submit_get(form, "/client/slots", {name: value})


def _deep_path(client: Session, first_html: str, depth: int, page: Page) -> str:
    """Follow the Next links `depth` times from the first page."""
    path, html = "/client/slots", first_html
    for step in range(depth):
        _, links = parse_page(html, path)
        if "next" not in links:
            page.notes.append(f"list ends after {step} Next links")
            break
        path = links["next"]
        answer = client.get(path)
        if answer.status != 200:
            page.notes.append(f"Next link {step + 1} answered {answer.status}")
            break
        html = answer.text
    else:
        page.notes.append(f"reached by {depth} Next links")
    return path


def _admin_path(admin: Session, query: str) -> str:
    html = admin.get("/admin/users").text
    form, name = _filter_form(html, "/admin/users", lambda n: n == "q" or "search" in n)
    if form is None:
        return "/admin/users?" + urlencode({"q": query})
    return _submit_get(form, "/admin/users", {name: query})


def _booking_path(client: Session, profile_path: str, page: Page) -> str:
    """The booking page of the first free time on the busy specialist's profile, as a client would pick it."""
    answer = client.get(profile_path)
    found = re.search(r'class="time-link" href="([^"]+)"', answer.text) if answer.status == 200 else None
    if found is None:
        page.notes.append(f"no free time on {profile_path} (HTTP {answer.status}): not measured")
        return profile_path
    return unescape(found.group(1))


def discover(sessions: dict, deep_pages: int) -> list[Page]:
    """Every page of the benchmark with its URL, between two runs of the trivial baseline route."""
    client, specialist, admin = sessions["client"], sessions["specialist"], sessions["admin"]
    first = Page("slots_first", "/client/slots first page", "/client/slots", client, 100, ratio_target=0.2)
    specialty = Page("slots_specialty", "/client/slots by specialty", "", client)
    deep = Page("slots_deep", f"/client/slots deep page (~{deep_pages} Next)", "", client, p99_target_ms=100)
    first_answer = client.get(first.path)
    if first_answer.status == 200:
        specialty.path = _specialty_path(client, first_answer.text, specialty)
        deep.path = _deep_path(client, first_answer.text, deep_pages, deep)
    else:
        specialty.path = "/client/slots?" + urlencode({"specialty": SPECIALTY})
        deep.path = "/client/slots"
        deep.notes.append(f"first page answered {first_answer.status}: no Next links to follow")
    busy_profile = f"/specialists/{common.SPECIALIST}"
    booking = Page("book", "/book/<slot> (client)", "", client, p99_target_ms=100)
    booking.path = _booking_path(client, busy_profile, booking)
    return [
        Page("hello", "/bench/hello (baseline)", "/bench/hello", None, p99_target_ms=0, ratio_target=0),
        first,
        specialty,
        deep,
        Page("calendar", "/specialist/calendar busy week", "/specialist/calendar", specialist),
        Page("specialist_consultations", "/specialist/consultations", "/specialist/consultations", specialist),
        Page("client_consultations", "/client/consultations", "/client/consultations", client),
        Page("admin_users", f"/admin/users?q={ADMIN_QUERY}", _admin_path(admin, ADMIN_QUERY), admin),
        Page("admin_lookup", f"/admin/users?q={ADMIN_LOOKUP}", _admin_path(admin, ADMIN_LOOKUP), admin),
        Page("directory", "/specialists (anonymous)", "/specialists", None, p99_target_ms=100),
        Page("profile_busy", "/specialists/<busy> (anonymous)", busy_profile, None, p99_target_ms=100),
        booking,
        *api_pages(client, deep_pages),
        feed_page(specialist),
        Page("admin_overview", "/admin overview (12 weeks of figures)", "/admin", admin),
        # Measured again last: the baseline is the mean of both, so a drift in the machine's load shows.
        Page("hello_end", "/bench/hello again (baseline)", "/bench/hello", None, p99_target_ms=0, ratio_target=0),
    ]


def probe(page: Page, base_url: str) -> bool:
    """Check the page answers 200 for its user, count its SQL statements, and capture them once."""
    session = page.session or Session(base_url)
    counts = []
    status = None
    for _ in range(3):
        answer = session.get(page.path)
        status = answer.status
        counts.append(answer.query_count)
    session.get(page.path, headers={"X-Bench-Capture": "1"})
    page.result.update(status=status, queries=max(c or 0 for c in counts), queries_seen=sorted(set(counts)))
    if status != 200:
        page.notes.append(f"answered HTTP {status}: not measured")
    return status == 200


def run_wrk(url: str, cookie: str, seconds: float, connections: int, threads: int, authorization: str = "") -> dict:
    env = dict(os.environ, BENCH_COOKIE=cookie, BENCH_USER_AGENT=USER_AGENT, BENCH_AUTHORIZATION=authorization)
    duration = f"{max(1, round(seconds))}s"
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--timeout", "10s", "-s", str(LUA), url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    found = re.search(r"^BENCH_JSON (.*)$", out, re.MULTILINE)
    if not found:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    raw = json.loads(found.group(1))
    seconds_run = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in raw if k.startswith("errors_"))
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "non_2xx_3xx": raw["errors_status"],
        "socket_errors": errors - raw["errors_status"],
        "kb_per_request": round(raw["bytes"] / max(raw["requests"], 1) / 1024, 1),
    }


def measure(page: Page, base_url: str, seconds: float, warmup: float, connections: int, threads: int) -> None:
    """wrk on the page after a warm-up; each page (anonymous ones too) gets a short baseline run of its own
    just before, so that its ratio compares two figures taken under the same load of the machine."""
    cookie = page.session.cookie_header() if page.session else ""
    authorization = getattr(page.session, "authorization", "")  # API pages: a bearer token, no cookie
    url = base_url + page.path
    if page.key not in ("hello", "hello_end"):
        adjacent = run_wrk(base_url + "/bench/hello", "", ADJACENT_BASELINE_SECONDS, connections, threads)
        page.result["adjacent_baseline_rps"] = adjacent["rps"]
    if warmup:
        run_wrk(url, cookie, warmup, connections, threads, authorization)
    page.result.update(run_wrk(url, cookie, seconds, connections, threads, authorization))


FEED_ON_PAGE = re.compile(r'id="feed-url" readonly value="([^"]+)"')


def feed_page(specialist: Session) -> Page:
    """The busy specialist's calendar feed, fetched as a calendar app does: its address read off the profile,
    no cookie."""
    page = Page("feed_busy", "/feeds/<token>.ics busy specialist (no cookie)", "", None, p99_target_ms=100)
    found = FEED_ON_PAGE.search(specialist.get("/profile").text)
    if found is None:
        page.notes.append("no Calendar feed section on the profile: not measured")
        page.path = "/feeds/missing.ics"
        return page
    page.path = urlsplit(unescape(found.group(1))).path
    return page


# ------------------------------------------------------------------------------------------------ the REST API

TOKEN_ON_PAGE = re.compile(r'<code class="token-value">(cpt_[A-Za-z0-9_\-]+)</code>')


class ApiSession(Session):
    """A script holding an API token: every request carries `Authorization: Bearer …`, and no cookie."""

    def __init__(self, base_url: str, token: str):
        super().__init__(base_url)
        self.authorization = f"Bearer {token}"

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        return super().request(method, path, body, {"Authorization": self.authorization, **(headers or {})})


def api_token(session: Session) -> str | None:
    """A token made the way a person makes one: the profile's API tokens form, read off the page once."""
    forms, _ = parse_page(session.get("/profile").text, "/profile")
    form = next((f for f in forms if f.has_button("Create token")), None)
    if form is None:
        return None
    data = dict(form.submit_fields("Create token"))
    data.update({name: "benchmark" for name, _ in form.fields if name.endswith("-name")})
    found = TOKEN_ON_PAGE.search(session.post(form.action, data).text)
    return found.group(1) if found else None


def api_pages(client: Session, deep_pages: int) -> list[Page]:
    """GET /api/v1/slots as the client's script: the first page, and a deep one reached by its `next` links."""
    token = api_token(client)
    first = Page("api_slots_first", "GET /api/v1/slots first page", "/api/v1/slots", None, 100, ratio_target=0.2)
    deep = Page("api_slots_deep", f"GET /api/v1/slots deep page (~{deep_pages} next)", "/api/v1/slots", None, 100)
    if token is None:
        for page in (first, deep):
            page.notes.append("no API tokens section on the profile: not measured")
        return [first, deep]
    script = first.session = deep.session = ApiSession(client.base_url, token)
    answer = script.get(first.path)
    for step in range(deep_pages):
        following = json.loads(answer.text).get("next") if answer.status == 200 else None
        if not following:
            deep.notes.append(f"list ends after {step} next links")
            break
        parts = urlsplit(following)
        deep.path = f"{parts.path}?{parts.query}"
        answer = script.get(deep.path)
    else:
        deep.notes.append(f"reached by {deep_pages} next links")
    return [first, deep]
