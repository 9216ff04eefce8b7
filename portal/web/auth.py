"""Who is signed in, and the role check every page uses."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable

from flask import abort, g, request, session
from flask_login import current_user, login_required, login_user

from .. import accounts
from ..extensions import login_manager
from ..models import Role, User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # A cookie from a sign-in that has ended (signed out, password changed) names no one,
    # and deactivation ends every sign-in at once.
    user = accounts.signed_in_user(user_id)
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
    login_user(accounts.record_sign_in(user), remember=remember)


# Flask's cookie session (not a sign-in, not a ServiceSession) holds the secret of the
# browser that signed up, so the emailed link signs in that browser and no other.
_SIGN_UP_BROWSER = "sign_up_browser"


def new_sign_up_browser_key() -> str:
    """A secret for this browser to prove, at the verification link, that it signed up.
    Given for every sign-up form sent, so the cookie does not tell whether the address
    had an account."""
    key = secrets.token_urlsafe(24)
    session[_SIGN_UP_BROWSER] = key
    return key


def sign_up_browser_key() -> str | None:
    return session.get(_SIGN_UP_BROWSER)


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
