"""Two web processes (gunicorn, one worker each, different ports) on the same PostgreSQL and Redis behave as one
portal: a block made on one is enforced by the other at once, login failures are counted together, and a slot
booked on one is gone from the other's list at once."""

import pytest
from sqlalchemy import text

from tests.factories import PASSWORD, make_consultation, make_slot, make_user
from tests.proof.http import Browser, Gunicorn, page_form, server_env
from tests.support.web import csrf_in

pytestmark = [pytest.mark.slow, pytest.mark.serial]

BLOCKED = "Your account is blocked"
THROTTLED = "Too many failed attempts. Please wait 15 minutes and try again."


@pytest.fixture(scope="module")
def pair(app_config, run_id, tmp_path_factory):
    """Processes A and B, started once for the module."""
    env = server_env(app_config, RQ_QUEUE_PREFIX=f"{run_id}scale-", RATELIMIT_KEY_PREFIX=f"{run_id}scale")
    logs = tmp_path_factory.mktemp("scale-out")
    servers = [Gunicorn(env, logs, workers=1, name=name) for name in ("a", "b")]
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()
    for server in servers:
        assert server.errors() == [], server.log()[-3000:]


def test_a_block_made_on_one_process_stops_the_session_on_the_other_at_once(pair):
    a, b = pair
    admin, client = make_user("admin"), make_user("client", locale="en")
    on_b = Browser(b.url)
    assert on_b.login(client.username, PASSWORD).status == 302
    assert on_b.get("/client/slots").status == 200

    on_a = Browser(a.url)
    on_a.login(admin.username, PASSWORD)
    confirmation = on_a.get(f"/admin/users/{client.id}/block")
    form = page_form(confirmation, action=f"/admin/users/{client.id}/block")
    done = on_a.post(form.action, form.values(reason="Spam"))
    assert done.status == 303
    assert f"{client.username} is blocked" in " ".join(on_a.follow(done).flashes())

    on_b_answer = on_b.get("/client/consultations")  # the very next request on the other process
    assert on_b_answer.status == 403
    assert f"<h1>{BLOCKED}</h1>" in on_b_answer.text
    assert on_b.get("/client/slots").location.startswith("/login")  # that session is over
    refused = Browser(b.url).login(client.username, PASSWORD)
    assert refused.status == 403 and BLOCKED in refused.text


def test_login_failures_on_both_processes_are_counted_together(pair):
    make_user(username="anna")
    browsers = [Browser(server.url) for server in pair]
    for n in range(5):  # A, B, A, B, A
        answer = browsers[n % 2].login("anna", "wrong-password-1")
        assert answer.status == 422, n
    for browser in browsers:  # the sixth, with the right password, on either process
        refused = browser.login("anna", PASSWORD)
        assert refused.status == 429
        assert THROTTLED in refused.text


def test_a_slot_booked_on_one_process_is_gone_from_the_list_on_the_other_at_once(pair, db):
    a, b = pair
    specialist, asker, looker = make_user("specialist"), make_user("client"), make_user("client")
    slot = make_slot(specialist)
    pending = make_consultation(slot, asker)
    on_b = Browser(b.url)
    on_b.login(looker.username, PASSWORD)
    assert f"/client/slots/{slot.id}/request" in on_b.get("/client/slots").text

    on_a = Browser(a.url)
    on_a.login(specialist.username, PASSWORD)
    requests_page = on_a.get("/specialist/consultations")
    form = page_form(requests_page, action=f"/specialist/consultations/{pending.id}/accept")
    accepted = on_a.post(form.action, form.values())
    assert accepted.status == 303
    assert any(m.startswith("You accepted the request of") for m in on_a.follow(accepted).flashes())

    listed = on_b.get("/client/slots")
    assert listed.status == 200
    assert f"/client/slots/{slot.id}/request" not in listed.text
    # And a request sent anyway (a stale page) is refused on B with a message, not booked twice.
    late = on_b.post(f"/client/slots/{slot.id}/request", [("csrf_token", csrf_in(listed.text))])
    assert late.status == 303
    assert "This slot has just been booked by someone else." in on_b.follow(late).flashes()
    status = db.session.execute(
        text("SELECT status, count(*) FROM consultations WHERE slot_id = :s GROUP BY status"), {"s": slot.id}
    ).all()
    assert dict(status) == {"accepted": 1}
