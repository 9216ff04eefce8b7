"""Running the portal for real: start-up checks, proxies, request ids and logs,
probes and metrics, outage answers and production static files."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import health
from .checks import check_configuration
from .errors import register_error_handlers
from .logs import configure_logging, register_request_ids
from .metrics import register_request_metrics
from .static import register_static

__all__ = ["check_configuration", "register_ops"]


def register_ops(app: Flask) -> None:
    if app.config["PORTAL_LOG_FORMAT"]:
        configure_logging(app.config["PORTAL_LOG_FORMAT"], app.config["PORTAL_LOG_LEVEL"])
    proxies = int(app.config["PORTAL_TRUSTED_PROXIES"])
    if proxies:
        # Only the last `proxies` hops are believed: a client's own X-Forwarded-For
        # entries sit further left and are ignored, so nobody picks their address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    register_request_ids(app)
    register_request_metrics(app)
    register_error_handlers(app)
    register_static(app)
    app.register_blueprint(health.bp)
