"""Who is signed in, and the role check every page uses."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import abort, request
from flask_login import current_user, login_required

from ..extensions import db, login_manager
from ..models import Role, User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    key = user_id.partition(".")[0]
    user = db.session.get(User, int(key)) if key.isdigit() and len(key) < 10 else None
    # A cookie made before the password changed names the user by an old id.
    if user is None or not hmac.compare_digest(user.get_id(), user_id):
        return None
    # Deactivation ends every session at once: the next request finds nobody signed in.
    if not user.is_active:
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """A ?next= worth following after sign-in or sign-up: a path on this site, nothing else."""
    # Control characters would reach the Location header (a 500); browsers read "\" as "/".
    if not target or not target.isprintable() or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def submitted_email_key() -> str:
    """Rate-limit key for forms naming an account: the address typed, in any case, so
    guesses at one account count together from every IP."""
    return "email:" + request.form.get("email", "").strip().lower()[:254]


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
