"""Absolute links for messages, and the signed one-click unsubscribe token.

The worker renders outside any request, so links are built against PORTAL_BASE_URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..models import Preference

_SALT = "portal-unsubscribe"


def external_url(endpoint: str, **values) -> str:
    base = urlsplit(current_app.config["PORTAL_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_token(user_id: int, preference: Preference) -> str:
    """No expiry: a link in a year-old reminder must still turn reminders off."""
    return _serializer().dumps([user_id, preference.value])


def read_unsubscribe_token(token: str) -> tuple[int, Preference] | None:
    try:
        user_id, preference = _serializer().loads(token)
        return int(user_id), Preference(preference)
    except (BadSignature, ValueError, TypeError):
        return None
