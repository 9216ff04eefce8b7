"""Estuary Portal: the application factory."""

from __future__ import annotations

import os

from flask import Flask

from .config import build_config
from .database import configure_engine
from .extensions import babel, csrf, db, limiter, login_manager, mail, migrate
from .l10n import DEFAULT_LOCALE
from .ops import check_configuration, register_ops


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(build_config(app.instance_path))
    if config:
        app.config.from_mapping(config)
    check_configuration(app)

    from . import models  # noqa: F401  (registers every table on the metadata)

    db.init_app(app)
    configure_engine(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    login_manager.init_app(app)
    mail.init_app(app)
    # The limiter counts sign-in attempts before CSRF checks reject anything.
    limiter.init_app(app)
    csrf.init_app(app)

    from .web.localtime import viewer_locale

    # Formats only: English is the one translation, the locale decides how times read.
    babel.init_app(app, default_locale=DEFAULT_LOCALE, locale_selector=viewer_locale)

    from .web import register_web

    register_web(app)

    from .blueprints import register_blueprints

    register_blueprints(app)

    from .cli import register_cli

    register_cli(app)

    from .worker import register_worker

    register_worker(app)
    register_ops(app)
    return app
