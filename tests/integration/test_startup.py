"""Starting the portal: production starts (gunicorn, the Docker entrypoint) refuse without DATABASE_URL or
SECRET_KEY, /dev/mail does not exist there, and the embedded demo serves this computer only."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from portal.demo import DEMO_PASSWORD
from portal.web import is_loopback
from tests.factories import make_user
from tests.proof.http import Browser, Gunicorn, page_form, server_env
from tests.support.paths import ROOT, free_port
from tests.support.services import flask_cli

pytestmark = pytest.mark.slow

MESSAGE = "A production start needs DATABASE_URL (PostgreSQL) and SECRET_KEY in the environment."


def production_env(app_config, *missing: str) -> dict:
    """A production environment (https, a real mail server) with some settings left out."""
    env = server_env(app_config, PUBLIC_URL="https://portal.example.org", MAIL_SERVER="smtp.example.org")
    for name in ("PORTAL_EMBEDDED", *missing):
        env.pop(name, None)
    return env


def run(command: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("missing", ["DATABASE_URL", "SECRET_KEY"])
def test_gunicorn_refuses_to_start_without_a_required_setting(app_config, missing):
    result = run(
        [sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "wsgi:app"], production_env(app_config, missing)
    )
    assert result.returncode != 0
    assert f"{missing} is not set. {MESSAGE}" in result.stderr
    assert "Booting worker" in result.stderr  # it got as far as loading the app, and stopped there


def test_the_docker_entrypoint_refuses_before_migrating_or_serving(app_config):
    env = production_env(app_config, "DATABASE_URL", "SECRET_KEY")
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env['PATH']}"  # `flask` as the image has it
    result = run(["sh", "scripts/docker-entrypoint.sh", "gunicorn", "--bind", "127.0.0.1:0", "wsgi:app"], env)
    assert result.returncode != 0
    assert f"DATABASE_URL and SECRET_KEY are not set. {MESSAGE}" in result.stderr
    assert "Listening at" not in result.stderr + result.stdout  # gunicorn never started


@pytest.fixture
def production(app_config, tmp_path):
    """The portal under gunicorn as production runs it, DATABASE_URL set (queues shared with `rq_worker`)."""
    env = server_env(app_config)
    env.pop("PORTAL_EMBEDDED", None)
    server = Gunicorn(env, tmp_path).start()
    yield server
    server.stop()
    assert server.errors() == [], server.log()[-3000:]


def test_the_admin_takeover_through_the_development_mailbox_fails(production, rq_worker, mail):
    admin = make_user("admin", username="root", email="root@example.com")
    attacker = Browser(production.url)
    page = attacker.get("/reset-password")
    answer = attacker.post("/reset-password", page_form(page, action="/reset-password").values(email=admin.email))
    assert answer.status == 302  # the usual answer
    assert mail.wait_for(1, to="root@example.com")  # the link went to the admin's own mailbox
    mailbox = attacker.get("/dev/mail")
    assert mailbox.status == 404 and "/reset-password/" not in mailbox.text
    assert "<h1>Not found</h1>" in mailbox.text


def test_the_development_mailbox_does_not_exist_with_a_database_url(production):
    answer = Browser(production.url).get("/dev/mail")
    assert answer.status == 404 and "Development mailbox" not in answer.text


@pytest.fixture
def embedded_env(tmp_path):
    """What `make run` sets, on a SQLite file of this test's own."""
    env = {**os.environ, "PORTAL_EMBEDDED": "1", "SECRET_KEY": "demo", "PYTHONUNBUFFERED": "1"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    for name in ("REDIS_URL", "MAIL_SERVER", "FLASK_APP"):
        env.pop(name, None)
    return env


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "portal.example.org"])
def test_the_embedded_demo_refuses_a_non_loopback_address(embedded_env, host):
    result = flask_cli(embedded_env, "serve-embedded", "--host", host, "--port", str(free_port()))
    assert result.returncode != 0
    assert f"The embedded demo serves only on a loopback address (127.0.0.1, ::1, localhost), not {host}." in (
        result.stderr
    )


def test_serve_embedded_needs_the_embedded_flag(embedded_env):
    env = {**embedded_env, "PORTAL_EMBEDDED": "0"}
    result = flask_cli(env, "serve-embedded", "--port", str(free_port()))
    assert result.returncode != 0
    assert "serve-embedded serves only the embedded demo (PORTAL_EMBEDDED=1)" in result.stderr


@pytest.fixture
def demo_env(embedded_env) -> dict:
    """The embedded environment after `make run`'s first two steps: migrated, demo data loaded."""
    upgrade = flask_cli(embedded_env, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    seed = flask_cli(embedded_env, "seed-demo")
    assert seed.returncode == 0, seed.stderr
    assert "Demo data loaded." in seed.stdout and DEMO_PASSWORD in seed.stdout
    return embedded_env


def test_make_run_serves_the_demo_on_loopback(demo_env, tmp_path):
    port = free_port()
    command = ["flask", "--app", "wsgi", "serve-embedded", "--host", "127.0.0.1", "--port", str(port)]
    with Server(command, demo_env, tmp_path / "serve.log") as server:
        browser = Browser(f"http://127.0.0.1:{port}", timeout=10)
        assert server.wait_for_health(browser)
        assert browser.login("dr_smith", DEMO_PASSWORD).location == "/specialist/calendar"
        assert browser.get("/specialist/calendar").status == 200
        assert browser.get("/dev/mail").status == 200


def network_address() -> str | None:
    """This machine's address on its network interface (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if is_loopback(address) else address


def test_the_demo_started_on_a_public_address_by_mistake_answers_no_other_computer(demo_env, tmp_path):
    address = network_address()
    if address is None:
        pytest.skip("this machine has no network interface besides loopback")
    port = free_port()
    command = ["gunicorn", "--bind", f"0.0.0.0:{port}", "wsgi:app"]
    with Server(command, demo_env, tmp_path / "gunicorn.log") as server:
        local = Browser(f"http://127.0.0.1:{port}")
        assert server.wait_for_health(local)
        remote = Browser(f"http://{address}:{port}")
        assert remote.get("/reset-password").status == 404
        assert remote.post("/reset-password", {"email": "admin@example.com"}).status == 404
        assert remote.get("/dev/mail").status == 404
        # The same steps from this computer work, so the 404s above are the guard's doing.
        page = local.get("/reset-password")
        form = page_form(page, action="/reset-password")
        assert local.post(form.action, form.values(email="admin@example.com")).status == 302
        assert "/reset-password/" in local.get("/dev/mail").text
        mailbox = remote.get("/dev/mail")
        assert mailbox.status == 404 and "/reset-password/" not in mailbox.text


class Server:
    """A server process of the embedded demo (`flask serve-embedded` or gunicorn), stopped on exit."""

    def __init__(self, command: list[str], env: dict, log_path):
        self.command, self.env, self.log_path = [sys.executable, "-m", *command], env, log_path

    def __enter__(self) -> "Server":
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=self.log, start_new_session=True
        )
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(15)
        self.log.close()

    def wait_for_health(self, browser: Browser) -> bool:
        """Poll /healthz until it answers 200 (False if the process died or never answered)."""
        for _ in range(300):
            if self.process.poll() is not None:
                break
            try:
                if browser.get("/healthz").status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        print(self.log_path.read_text(errors="replace"))
        return False
