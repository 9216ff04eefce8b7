"""Sign-ins: one row per sign-in, so signing out (here or everywhere) refuses every copy
of the cookies it issued. Only a SHA-256 of each sign-in's key is stored."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import cast

from flask import current_app
from sqlalchemy import ColumnElement, CursorResult, delete, select

from ..core.transactions import delete_in_batches, unit_of_work
from ..database import utcnow
from ..extensions import db
from ..models import SignIn, User

log = logging.getLogger(__name__)


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _lasting(now: datetime | None = None) -> ColumnElement[bool]:
    """A sign-in lasts as long as the remember-me cookie it issued."""
    lifetime: timedelta = current_app.config["REMEMBER_COOKIE_DURATION"]
    return SignIn.created_at > (now or utcnow()) - lifetime


@unit_of_work
def record_sign_in(user: User) -> User:
    """Record a new sign-in and mark the user with its key, for login_user to put in the
    cookies (User.get_id)."""
    key = secrets.token_urlsafe(24)
    db.session.add(SignIn(key_hash=_hash_key(key), user_id=user.id))
    user.sign_in_key = key
    log.info("user %s signed in", user.id)
    return user


def signed_in_user(cookie_id: str) -> User | None:
    """The user a Flask session or remember-me cookie names, while that sign-in lasts: one
    lookup by primary key, joined to the user."""
    user_id, _, key = cookie_id.partition(".")
    if not (user_id.isdigit() and len(user_id) < 10 and key):
        return None
    user = db.session.scalar(
        select(User)
        .join(SignIn, SignIn.user_id == User.id)
        .where(SignIn.key_hash == _hash_key(key), User.id == int(user_id), _lasting())
    )
    if user is not None:
        user.sign_in_key = key
    return user


@unit_of_work
def sign_out(user: User) -> None:
    """Sign-out: every copy of this sign-in's cookies is refused from now on."""
    if user.sign_in_key is not None:
        db.session.execute(delete(SignIn).where(SignIn.key_hash == _hash_key(user.sign_in_key)))
    log.info("user %s signed out", user.id)


@unit_of_work
def sign_out_everywhere(user: User) -> int:
    """Sign out everywhere: every sign-in of the user, on any device, ends."""
    ended = db.session.execute(delete(SignIn).where(SignIn.user_id == user.id))
    count = cast(CursorResult, ended).rowcount
    log.info("user %s signed out everywhere (%s sign-ins)", user.id, count)
    return count


def prune_expired_sign_ins(*, now: datetime | None = None) -> int:
    """Delete the sign-ins past their lifetime (no cookie of theirs is accepted any more);
    returns how many went."""
    pruned = delete_in_batches(SignIn.key_hash, ~_lasting(now))
    log.info("pruned %s expired sign-ins", pruned)
    return pruned
