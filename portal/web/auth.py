"""Who is signed in, and the role check every page uses."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable

from flask import abort
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
