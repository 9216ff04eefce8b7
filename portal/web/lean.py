"""Routes served without the per-request hooks: a machine's POST that a person never
sends, where every hook would be work for nothing on a path that must keep up with a
burst (LiveKit's webhooks: verify the signature, insert the event, answer).

Such a request skips the before/after-request functions (rate limits, sign-in and
sign-out bookkeeping, security and cache headers for pages, request logging and
metrics); its view, its blueprint's error handlers and the app context's teardown
(which returns the database connection) still run.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask
from werkzeug.exceptions import HTTPException


class LeanRoutes:
    """WSGI middleware: POSTs to `routes` (path -> endpoint) go straight to their view."""

    def __init__(self, app: Flask, wsgi_app, routes: dict[str, str]):
        self.app = app
        self.wsgi_app = wsgi_app
        self.routes = routes

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        endpoint = self.routes.get(environ.get("PATH_INFO", ""))
        if endpoint is None or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        app = self.app
        with app.request_context(environ):
            try:
                answer = app.view_functions[endpoint]()
            except HTTPException as error:
                answer = app.handle_user_exception(error)
            except Exception as error:  # noqa: BLE001 - as Flask itself answers it
                answer = app.handle_exception(error)
            response = app.make_response(answer)  # type: ignore[arg-type]
        return response(environ, start_response)


def serve_lean(app: Flask, routes: dict[str, str]) -> None:
    # Flask documents replacing wsgi_app with middleware; mypy sees a method.
    app.wsgi_app = LeanRoutes(app, app.wsgi_app, routes)  # type: ignore[method-assign]
