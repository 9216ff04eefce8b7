"""Web-layer plumbing shared by every blueprint: sign-in loading, role checks,
page-or-fragment rendering, time formatting and error pages."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, abort, current_app, flash, render_template, request
from flask_login import current_user, login_required
from werkzeug.routing import IntegerConverter

from . import api_tokens
from .database import MAX_ID
from .extensions import db, login_manager
from .models import Role, User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    key = user_id.partition(".")[0]
    user = db.session.get(User, int(key)) if key.isdigit() and len(key) < 10 else None
    # A cookie made before the password changed names the user by an old id.
    if user is None or not hmac.compare_digest(user.get_id(), user_id):
        return None
    return user


login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"


def roles_required(*roles: Role) -> Callable:
    """Signed in and holding one of the roles, else 403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def is_htmx() -> bool:
    # A history restore (back button after a cache miss) needs the whole page.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page(page: str, fragment: str, **context):
    """The full page for a normal request; only the fragment for an htmx swap."""
    return render_template(fragment if is_htmx() else page, **context)


def viewer_zone() -> ZoneInfo:
    if current_user.is_authenticated:
        return current_user.zone
    return ZoneInfo("UTC")


def local_time(moment: datetime | None, fmt: str = "%a %d %b %Y %H:%M", zone: str | None = None):
    if moment is None:
        return "unscheduled"
    target = ZoneInfo(zone) if zone else viewer_zone()
    return moment.astimezone(target).strftime(fmt)


def flash_domain_error(error) -> None:
    flash(error.message, "error")


def livekit_origins(livekit_url: str) -> list[str]:
    """The LiveKit server's WebSocket origin and its HTTP(S) twin: livekit-client also calls
    the same host over HTTP. Plain ws:// and http:// only for a development server."""
    if not livekit_url:
        return []
    parts = urlsplit(livekit_url)
    if parts.scheme not in ("ws", "wss", "http", "https") or not parts.netloc:
        raise ValueError(f"LIVEKIT_URL must look like wss://livekit.example.com: {livekit_url!r}")
    secure = parts.scheme in ("wss", "https")
    return [
        f"{'wss' if secure else 'ws'}://{parts.netloc}",
        f"{'https' if secure else 'http'}://{parts.netloc}",
    ]


def security_headers(livekit_url: str) -> dict[str, str]:
    connect = " ".join(["'self'", *livekit_origins(livekit_url)])
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src {connect}; frame-ancestors 'none'; base-uri 'self'; "
            "form-action 'self'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


class IdConverter(IntegerConverter):
    """<int:...> in every route: a number beyond any id matches nothing (a 404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def register_web(app: Flask) -> None:
    # Before any blueprint adds its rules, so every <int:...> in them is bounded.
    app.url_map.converters["int"] = IdConverter
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.globals["Role"] = Role

    @app.before_request
    def _refuse_nul_characters():
        # PostgreSQL text cannot hold NUL, and no form a person fills in sends one.
        fields = (v for sent in (request.args, request.form) for _, vs in sent.lists() for v in vs)
        if "\x00" in request.path or any("\x00" in value for value in fields):
            abort(400, "The request contains a NUL character.")

    # Once per app: the LiveKit server is configuration, not something a request changes.
    headers = security_headers(app.config["LIVEKIT_URL"])

    @app.after_request
    def _security_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if app.config["SESSION_COOKIE_SECURE"]:
            # Served over HTTPS (SESSION_COOKIE_SECURE=1): browsers must not fall back to http.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # One URL answers with a page or a fragment: caches must keep them apart.
        response.vary.add("HX-Request")
        if "Cache-Control" not in response.headers and _answers_someone():
            # Neither a shared proxy nor the back button after sign-out may replay it.
            response.headers["Cache-Control"] = "private, no-store"
        return response

    for code, title in (
        (400, "Bad request"),
        (403, "Not allowed"),
        (404, "Not found"),
        (405, "Method not allowed"),
        (429, "Too many attempts"),
    ):
        app.register_error_handler(code, _error_page(code, title))
    app.register_error_handler(413, _too_large)


def _answers_someone() -> bool:
    """The answer was made for one person: a bearer-token API call or a signed-in page.
    (Static files never get here: send_file sets their Cache-Control.)"""
    return api_tokens.bearer_token() is not None or current_user.is_authenticated


def _too_large(error):
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    error.description = f"The request is larger than the {limit:,} bytes this portal accepts."
    return _error_page(413, "Request too large")(error)


def _error_page(code: int, title: str) -> Callable:
    def handler(error):
        description = getattr(error, "description", "") or ""
        if request.path.startswith("/api/"):
            from .blueprints.api.errors import http_error_response

            return http_error_response(error, code, description or title)
        return render_template("error.html", code=code, title=title, description=description), code

    return handler
