"""Sign-ins: one row per sign-in, so signing out (here or everywhere) refuses every copy
of the cookies it issued. Only a SHA-256 of each sign-in's key is stored."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, delete, select

from ..core.transactions import delete_in_batches, unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import User, UserSession

log = logging.getLogger(__name__)


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _lasting(now: datetime | None = None) -> ColumnElement[bool]:
    """A sign-in lasts as long as the remember-me cookie it issued."""
    lifetime: timedelta = current_app.config["REMEMBER_COOKIE_DURATION"]
    return UserSession.created_at > (now or utcnow()) - lifetime


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
        .where(UserSession.key_hash == _hash_key(key), User.id == int(user_id), _lasting())
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


def prune_expired_sessions(*, now: datetime | None = None) -> int:
    """Delete the sign-ins past their lifetime (no cookie of theirs is accepted any more);
    returns how many went."""
    pruned = delete_in_batches(UserSession.key_hash, ~_lasting(now))
    log.info("pruned %s expired sign-ins", pruned)
    return pruned
