"""Starting and ending a login session; the CSRF token lives and dies with it.

Flask-WTF keeps the raw CSRF token in the session and signs it into each form. Tokens carry no time limit
(WTF_CSRF_TIME_LIMIT is None: a form left open for an hour still posts), so what bounds a token's life is the
session: a new raw token at every login, none left after logout. A token seen before login (on a shared
computer, say) is then useless once someone logs in, and one copied from a logged-in page is useless after
logging out.
"""

from flask import current_app, g, session
from flask_login import login_user, logout_user

from portal.models import User


def _csrf_key() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def start_session(user: User, remember: bool = False) -> None:
    """Log the user in with a fresh CSRF token and their language."""
    session.pop(_csrf_key(), None)  # the next form made gets a new one ...
    g.pop(_csrf_key(), None)  # ... even within this request, where Flask-WTF keeps the signed one
    login_user(user, remember=remember)
    session["lang"] = user.locale


def end_session() -> None:
    """Log out, forgetting everything the session held (the CSRF token included) except the chosen language."""
    lang = session.get("lang")
    session.clear()
    logout_user()  # after the clear: it leaves the note in the session that deletes the remember-me cookie
    if lang:
        session["lang"] = lang
