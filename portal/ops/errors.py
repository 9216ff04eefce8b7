"""Answers for the failures no view handles: the database being away, and bugs.

A database that cannot be reached (restarting, failing over, out of connections) is a
503 with Retry-After, not a 500: the request was fine and will work again shortly.
The request's failed transaction is discarded at once and nobody is looked up again, so
the answer (whose translations and headers ask who is signed in) and the teardown never
touch the broken connection. Nothing needs resetting afterwards: the pool's pre-ping
replaces dead connections on the next checkout. The API answers in its JSON error shape;
pages get a short page that needs no database (not base.html, whose header asks who is
signed in).
"""

from __future__ import annotations

import logging

from flask import Flask, make_response, render_template
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from ..extensions import db
from ..web import forget_user
from ..web.errors import json_renderer

log = logging.getLogger(__name__)

# PostgreSQL restarts in seconds; a client that retries sooner only adds to the queue.
RETRY_AFTER_SECONDS = 5

# Connection refused or dropped, the server shutting down, SQLite's lock wait running
# out (OperationalError); a closed connection (InterfaceError); no pooled connection
# free in time (TimeoutError).
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def is_outage(error: BaseException | None) -> bool:
    """The database is away: one of the errors above, or any other that SQLAlchemy took
    for a lost connection (SQLite's "Cannot operate on a closed database" is a
    ProgrammingError)."""
    return isinstance(error, UNAVAILABLE) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def _leave_the_database() -> None:
    forget_user()
    try:
        db.session.close()
    except SQLAlchemyError:
        # Rolling back on a dead connection fails; the pool has invalidated it, which
        # is all that was needed.
        log.debug("discarding the failed transaction failed too", exc_info=True)


def _answer(error: HTTPException, title: str, message: str):
    """The JSON error of the URL's owner (the API), else a page needing no database."""
    render = json_renderer()
    if render is not None:
        return render(error, error.code, message)
    page = render_template("ops/error.html", code=error.code, title=title, description=message)
    response = make_response(page, error.code)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def database_unavailable(error: Exception):
    log.error("database unavailable: %s", error.__class__.__name__, exc_info=error)
    _leave_the_database()
    message = "The service is briefly unavailable. Please try again in a few seconds."
    unavailable = ServiceUnavailable(message, retry_after=RETRY_AFTER_SECONDS)
    response = _answer(unavailable, "Briefly unavailable", message)
    # Never store an outage: the next request may well succeed.
    response.headers["Cache-Control"] = "no-store"
    return response


def internal_error(error: InternalServerError):
    """Flask logs the exception itself (with the request id) before calling this."""
    original = getattr(error, "original_exception", None)
    # The database failing inside another handler (a 404 page asking who is signed in)
    # arrives here, past the handlers above.
    if is_outage(original):
        return database_unavailable(original)
    message = "Something went wrong on our side. It has been logged."
    return _answer(error, "Server error", message)


def register_error_handlers(app: Flask) -> None:
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, database_unavailable)
    app.register_error_handler(500, internal_error)
