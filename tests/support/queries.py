"""Counting and explaining the SQL a page runs, each request starting cold."""

from flask import g
from flask_babel import refresh
from sqlalchemy import event

from portal.extensions import db as _db


def fresh_request_state() -> None:
    """Tests share one app context, so forget what an earlier request cached: each counted request starts cold."""
    for name in ("_login_user", "portal_catalogues", "now"):
        g.pop(name, None)
    refresh()  # Flask-Babel's cached locale and zone
    _db.session.remove()


def queries_for(browser, count_queries, url: str) -> tuple[int, str]:
    """(SQL statements, page text) of one GET of `url`."""
    fresh_request_state()
    with count_queries() as q:
        response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return q.count, response.get_data(as_text=True)


def explain(browser, url: str, marker: str) -> str:
    """EXPLAIN ANALYZE the first statement of a page that holds `marker`, with its real parameters."""
    seen = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if marker in statement:
            seen.append((statement, parameters))

    fresh_request_state()
    event.listen(_db.engine, "before_cursor_execute", keep)
    try:
        assert browser.get(url).status_code == 200
    finally:
        event.remove(_db.engine, "before_cursor_execute", keep)
    (statement, parameters), *_ = seen
    raw = _db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN ANALYZE " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    finally:
        raw.close()
    print(f"{url}:\n{statement}\n{plan}")
    return plan
