"""Error rendering: the HTML error page, a domain refusal as a flash, and a hook through
which a JSON blueprint (the API) answers errors under its own URL prefix in its own shape."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, flash, render_template, request
from flask_babel import format_number, gettext, lazy_gettext
from werkzeug.exceptions import HTTPException

from ..core.errors import DomainError

# An app.extensions key: URL prefix -> renderer(error, status, message) of that prefix's errors.
JSON_ERRORS = "portal.json_errors"

ERROR_TITLES = {
    400: lazy_gettext("Bad request"),
    403: lazy_gettext("Not allowed"),
    404: lazy_gettext("Not found"),
    405: lazy_gettext("Method not allowed"),
    429: lazy_gettext("Too many attempts"),
}


def flash_domain_error(error: DomainError) -> None:
    flash(error.message, "error")


def answer_errors_as_json(app: Flask, prefix: str, render: Callable) -> None:
    """Errors of requests under `prefix` (404s of unknown URLs included) come from `render`.
    The web layer never imports the blueprint that owns the shape: the blueprint registers it."""
    app.extensions.setdefault(JSON_ERRORS, {})[prefix] = render


def register_error_pages(app: Flask) -> None:
    for code, title in ERROR_TITLES.items():
        app.register_error_handler(code, _error_page(code, title))
    app.register_error_handler(413, _too_large)


def _too_large(error):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    error.description = gettext(
        "The request is larger than the %(limit)s bytes this portal accepts.",
        limit=format_number(limit),
    )
    return _error_page(413, lazy_gettext("Request too large"))(error)


def json_renderer() -> Callable | None:
    """The renderer registered for this request's URL prefix, if any."""
    for prefix, render in current_app.extensions.get(JSON_ERRORS, {}).items():
        if request.path.startswith(prefix):
            return render
    return None


def _error_page(code: int, title: str) -> Callable:
    def handler(error: HTTPException):
        description = getattr(error, "description", "") or ""
        render = json_renderer()
        if render is not None:
            return render(error, code, str(description or title))
        return render_template("error.html", code=code, title=title, description=description), code

    return handler
