"""The pages under test: finding their URLs like a person would, and measuring each with wrk."""

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench.web import USER_AGENT, Session, parse_page

LUA = Path(__file__).resolve().parent / "wrk.lua"
SPECIALTY = "Psychologist"
ADMIN_QUERY = "client123"
ADJACENT_BASELINE_SECONDS = 3  # matches client12300 … client12399: a page of results and more


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


def _admin_path(admin: Session) -> str:
    html = admin.get("/admin/users").text
    form, name = _filter_form(html, "/admin/users", lambda n: n == "q" or "search" in n)
    if form is None:
        return "/admin/users?" + urlencode({"q": ADMIN_QUERY})
    return _submit_get(form, "/admin/users", {name: ADMIN_QUERY})


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
    return [
        Page("hello", "/bench/hello (baseline)", "/bench/hello", None, p99_target_ms=0, ratio_target=0),
        first,
        specialty,
        deep,
        Page("calendar", "/specialist/calendar busy week", "/specialist/calendar", specialist),
        Page("specialist_consultations", "/specialist/consultations", "/specialist/consultations", specialist),
        Page("client_consultations", "/client/consultations", "/client/consultations", client),
        Page("admin_users", f"/admin/users?q={ADMIN_QUERY}", _admin_path(admin), admin),
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


def run_wrk(url: str, cookie: str, seconds: float, connections: int, threads: int) -> dict:
    env = dict(os.environ, BENCH_COOKIE=cookie, BENCH_USER_AGENT=USER_AGENT)
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
    """wrk on the page after a warm-up; each page also gets a short baseline run of its own just before,
    so that its ratio compares two figures taken under the same load of the machine."""
    cookie = page.session.cookie_header() if page.session else ""
    url = base_url + page.path
    if page.session is not None:
        adjacent = run_wrk(base_url + "/bench/hello", "", ADJACENT_BASELINE_SECONDS, connections, threads)
        page.result["adjacent_baseline_rps"] = adjacent["rps"]
    if warmup:
        run_wrk(url, cookie, warmup, connections, threads)
    page.result.update(run_wrk(url, cookie, seconds, connections, threads))
