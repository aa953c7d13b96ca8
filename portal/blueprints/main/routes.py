"""Landing page, language switch, health check and the development mailbox."""

from flask import abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select, text

from portal.access import home_endpoint, safe_next
from portal.blueprints.main import bp
from portal.extensions import db
from portal.forms import EmptyForm
from portal.i18n import LANGUAGES
from portal.models import OutboxEmail


@bp.route("/")
def index():
    """Logged-in users go to their home; others see what the portal offers."""
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    return render_template("main/index.html")


@bp.route("/language", methods=["POST"])
def set_language():
    """The footer language switch (also saved to the profile when logged in)."""
    form = EmptyForm()
    lang = request.form.get("lang")
    if form.validate_on_submit() and lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


@bp.route("/healthz")
def healthz():
    """Database and Redis reachability, for load balancers and compose health checks."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't raise: this is the health page
        db.session.rollback()
        checks["database"] = f"error: {type(exc).__name__}"
    if current_app.config["REDIS_URL"]:
        from portal.queues import redis_connection

        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception as exc:  # report, don't raise
            checks["redis"] = f"error: {type(exc).__name__}"
    else:
        checks["redis"] = "not configured"
    healthy = all(v in ("ok", "not configured") for v in checks.values())
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503


@bp.route("/dev/mail")
def dev_mail():
    """Emails the embedded demo 'sent'; it exists only in that mode (PORTAL_EMBEDDED=1, loopback only)."""
    if not current_app.config["EMBEDDED"]:
        abort(404)
    emails = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(50)).all()
    return render_template("main/dev_mail.html", emails=emails)
