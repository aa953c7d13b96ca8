"""Consultation Portal: the application factory."""

from flask import Flask

from portal.config import load_config


def create_app(config: dict | None = None) -> Flask:
    """Build the app: config from the environment, then extensions, blueprints, errors, commands."""
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(load_config(config))
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from portal import access, assets, auth_session, dbpool, i18n, ids, outbox, proxy, web, webhooks, words
    from portal.extensions import csrf, db, login_manager, migrate

    ids.init_app(app)
    db.init_app(app)
    dbpool.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    auth_session.init_app(app)
    access.init_app(app)
    i18n.init_app(app)
    words.init_app(app)
    outbox.init_app(app)
    webhooks.init_app(app)
    assets.init_app(app)  # before web: the demo's loopback guard covers the static files too
    web.init_app(app)
    proxy.init_app(app)


def register_blueprints(app: Flask) -> None:
    from portal.blueprints import register_all

    register_all(app)


def register_errorhandlers(app: Flask) -> None:
    from portal.errors import init_app

    init_app(app)


def register_commands(app: Flask) -> None:
    from portal.commands import init_app

    init_app(app)
