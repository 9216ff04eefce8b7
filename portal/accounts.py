"""Account operations: creating users, changing passwords and the sign-ins (sessions)
they hold, each one unit of work."""

from __future__ import annotations

import hashlib
import logging
import secrets
from functools import cache
from zoneinfo import available_timezones

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .booking.errors import InvalidInput
from .booking.transactions import unit_of_work
from .extensions import db
from .models import Role, User, UserSession
from .profiles import save_public_profile

log = logging.getLogger(__name__)


@unit_of_work
def create_user(email: str, name: str, role: Role, password: str, timezone: str = "UTC") -> User:
    if timezone not in available_timezones():
        raise InvalidInput(f"Unknown timezone {timezone!r}.", field="timezone")
    email = email.strip().lower()
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise InvalidInput(f"{email} already has an account.", field="email")
    user = User(email=email, name=name, role=role, timezone=timezone)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if role == Role.PRACTITIONER:
        # Their public page exists from the start, under an address made from their name.
        save_public_profile(user)
    return user


@unit_of_work
def change_password(user: User, new_password: str) -> None:
    """Set the password and end every sign-in of the user, the caller's own included:
    whoever knew the old password may hold one of them."""
    user.set_password(new_password)
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    log.info("user %s changed the password; every session ended", user.id)


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@unit_of_work
def start_session(user: User) -> User:
    """Record a new sign-in and mark the user with its key, for login_user to put in the
    cookies (User.get_id)."""
    key = secrets.token_urlsafe(24)
    db.session.add(UserSession(key_hash=_hash_key(key), user_id=user.id))
    user.session_key = key
    log.info("user %s signed in", user.id)
    return user


def user_for_session(cookie_id: str) -> User | None:
    """The user a session or remember-me cookie names, while that sign-in lasts: one
    lookup by primary key, joined to the user."""
    user_id, _, key = cookie_id.partition(".")
    if not (user_id.isdigit() and len(user_id) < 10 and key):
        return None
    user = db.session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.key_hash == _hash_key(key), User.id == int(user_id))
    )
    if user is not None:
        user.session_key = key
    return user


@unit_of_work
def end_session(user: User) -> None:
    """Sign-out: every copy of this sign-in's cookies is refused from now on."""
    if user.session_key is not None:
        db.session.execute(
            delete(UserSession).where(UserSession.key_hash == _hash_key(user.session_key))
        )
    log.info("user %s signed out", user.id)


@unit_of_work
def end_all_sessions(user: User) -> int:
    """Sign out everywhere: every sign-in of the user, on any device, ends."""
    ended = db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    log.info("user %s signed out everywhere (%s sessions)", user.id, ended.rowcount)
    return ended.rowcount


@cache
def _stand_in_hash() -> str:
    return generate_password_hash("no account has this password")


def password_matches(user: User | None, password: str) -> bool:
    """The sign-in check. Without a user it does the same slow hashing and says no, so
    answer times do not tell which emails have accounts."""
    if user is None:
        check_password_hash(_stand_in_hash(), password)
        return False
    return user.check_password(password)


def find_client(email: str) -> User | None:
    """The client account with that email, whatever its case."""
    return db.session.scalar(
        select(User).where(
            func.lower(User.email) == email.strip().lower(), User.role == Role.CLIENT
        )
    )


def practitioners() -> list[User]:
    """Every practitioner by name: staff pick one to read their calendar or report."""
    return list(
        db.session.scalars(select(User).where(User.role == Role.PRACTITIONER).order_by(User.name))
    )
