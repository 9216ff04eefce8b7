"""Who is signed in, and the role check every page uses."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort, g, request
from flask_login import current_user, login_required, login_user

from .. import accounts
from ..extensions import login_manager
from ..models import Role, User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # A cookie from a sign-in that has ended (signed out, password changed) names no one,
    # and deactivation ends every session at once.
    user = accounts.user_for_session(user_id)
    return user if user is not None and user.is_active else None


def forget_user() -> None:
    """Serve the rest of this request to nobody in particular, without asking the database.

    After the database failed mid-request, the error page's translations and the response's
    headers still ask who is signed in: Flask-Login would run load_user again (or refresh
    the user the rollback expired) and fail again, turning the 503 into a 500. Flask-Login
    keeps the request's user in g._login_user."""
    g._login_user = login_manager.anonymous_user()


def sign_in(user: User, remember: bool = False) -> None:
    """Start a sign-in of its own for this browser and put it in the cookies."""
    login_user(accounts.start_session(user), remember=remember)


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
