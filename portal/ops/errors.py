"""Answers for the failures no view handles: the database being away, and bugs.

A database that cannot be reached (restarting, failing over, out of connections) is a
503 with Retry-After, not a 500: the request was fine and will work again shortly.
Nothing needs resetting afterwards: the pool's pre-ping replaces dead connections on the
next checkout. The API answers in its JSON error shape; pages get a short page that
needs no database (not base.html, whose header asks who is signed in).
"""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from ..blueprints.api.errors import error_response

log = logging.getLogger(__name__)

# PostgreSQL restarts in seconds; a client that retries sooner only adds to the queue.
RETRY_AFTER_SECONDS = 5

# Connection refused or dropped, the server shutting down, SQLite's lock wait running
# out (OperationalError); a closed connection (InterfaceError); no pooled connection
# free in time (TimeoutError).
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def _is_api() -> bool:
    return request.path.startswith("/api/")


def database_unavailable(error: Exception):
    log.error("database unavailable: %s", error.__class__.__name__, exc_info=error)
    message = "The service is briefly unavailable. Please try again in a few seconds."
    if _is_api():
        response = error_response(503, message, "database_unavailable")
    else:
        page = render_template(
            "ops/error.html", code=503, title="Briefly unavailable", description=message
        )
        response = Flask.response_class(page, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Never store an outage: the next request may well succeed.
    response.headers["Cache-Control"] = "no-store"
    return response


def internal_error(error):
    """Flask logs the exception itself (with the request id) before calling this."""
    original = getattr(error, "original_exception", None)
    # The database failing inside another handler (a 404 page asking who is signed in)
    # arrives here, past the handlers above.
    if isinstance(original, UNAVAILABLE):
        return database_unavailable(original)
    message = "Something went wrong on our side. It has been logged."
    if _is_api():
        return error_response(500, message, "internal_error")
    page = render_template("ops/error.html", code=500, title="Server error", description=message)
    return page, 500


def register_error_handlers(app: Flask) -> None:
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, database_unavailable)
    app.register_error_handler(500, internal_error)
