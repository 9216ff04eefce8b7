"""Headers and request checks every answer gets, whatever blueprint made it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, g, request
from flask_babel import gettext
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from .. import api_tokens
from ..database import MAX_ID


def safe_next(target: str | None) -> str | None:
    """A ?next= target that stays on this site, or None."""
    # Control characters would reach the Location header (a 500); browsers read "\" as "/".
    if not target or not target.isprintable() or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


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


# Where a form's answer may send the browser besides the portal: Stripe's hosted Checkout,
# when card payments are on. Chromium applies form-action to the redirect a form's POST
# answers with, so "Pay the balance" or "Pay the fee" (a POST answered with a 303 to
# Checkout) is blocked without it; Stripe's CSP guidance lists this origin for Checkout.
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def security_headers(
    livekit_url: str,
    frame_ancestors: list[str] | None = None,
    form_targets: tuple[str, ...] = (),
) -> dict[str, str]:
    """Every answer's headers. Framing is refused unless a page names the origins that may
    frame it (a practitioner's public pages, embedded on their own site)."""
    connect = " ".join(["'self'", *livekit_origins(livekit_url)])
    forms = " ".join(["'self'", *form_targets])
    ancestors = " ".join(["'self'", *frame_ancestors]) if frame_ancestors else "'none'"
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src {connect}; frame-ancestors {ancestors}; base-uri 'self'; "
            f"form-action {forms}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if not frame_ancestors:
        # For browsers without CSP 2; it has no "allow these origins" form, so a page that
        # may be framed relies on frame-ancestors alone.
        headers["X-Frame-Options"] = "DENY"
    return headers


def allow_framing_by(origins: list[str]) -> None:
    """Let this answer be framed by these origins (checked: profiles.clean_embed_origins)."""
    if origins:
        g.frame_ancestors = origins


View = TypeVar("View", bound=Callable)
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# The form around an upload: its CSRF token and a checkbox or two.
FORM_ALLOWANCE = 64 * 1024


def accepts_upload(limit_setting: str) -> Callable[[View], View]:
    """A view taking a file of up to app.config[limit_setting] bytes, beyond the app's
    MAX_CONTENT_LENGTH. Beyond it, the request is refused (413) before the file is read."""

    def mark(view: View) -> View:
        view.upload_limit_setting = limit_setting  # type: ignore[attr-defined]
        return view

    return mark


class IdConverter(IntegerConverter):
    """<int:...> in every route: a number beyond any id matches nothing (a 404)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits, min, max, signed)


def register_security(app: Flask) -> None:
    def _widen_upload_limit():
        view = app.view_functions.get(request.endpoint or "")
        setting = getattr(view, "upload_limit_setting", None)
        if setting:
            request.max_content_length = app.config[setting] + FORM_ALLOWANCE

    # Before every other hook: CSRF's and the NUL check below read the body.
    app.before_request_funcs.setdefault(None, []).insert(0, _widen_upload_limit)

    @app.before_request
    def _refuse_nul_characters():
        # PostgreSQL text cannot hold NUL, and no form a person fills in sends one. Werkzeug
        # parses a form from these two types only: any other body (the API's JSON) is not
        # read here, which spares every API call building an empty form (#19).
        sent = [request.args]
        if request.mimetype in _FORM_TYPES:
            sent.append(request.form)
        fields = (v for values in sent for _, vs in values.lists() for v in vs)
        if "\x00" in request.path or any("\x00" in value for value in fields):
            abort(400, gettext("The request contains a NUL character."))

    # Once per app: the LiveKit server is configuration, not something a request changes.
    form_targets = (STRIPE_CHECKOUT_ORIGIN,) if app.config.get("STRIPE_SECRET_KEY") else ()
    headers = security_headers(app.config["LIVEKIT_URL"], form_targets=form_targets)

    @app.after_request
    def _security_headers(response):
        ancestors = g.get("frame_ancestors")
        chosen = (
            security_headers(app.config["LIVEKIT_URL"], ancestors, form_targets)
            if ancestors
            else headers
        )
        for name, value in chosen.items():
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


def _answers_someone() -> bool:
    """The answer was made for one person: a bearer-token API call or a signed-in page.
    (Static files never get here: send_file sets their Cache-Control.)"""
    return api_tokens.bearer_token() is not None or current_user.is_authenticated
