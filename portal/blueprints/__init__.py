"""One blueprint per audience."""

from flask import Flask


def register_all(app: Flask) -> None:
    from portal.blueprints.admin import bp as admin_bp
    from portal.blueprints.auth import bp as auth_bp
    from portal.blueprints.client import bp as client_bp
    from portal.blueprints.directory import bp as directory_bp
    from portal.blueprints.feeds import bp as feeds_bp
    from portal.blueprints.main import bp as main_bp
    from portal.blueprints.specialist import bp as specialist_bp
    from portal.blueprints.webhooks import bp as webhooks_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(directory_bp)
    app.register_blueprint(client_bp, url_prefix="/client")
    app.register_blueprint(specialist_bp, url_prefix="/specialist")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(feeds_bp)
    app.register_blueprint(webhooks_bp)

    from portal.api import init_app as register_api

    register_api(app)
