"""Secret calendar-feed tokens: shown once, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, select

from .core.errors import AddressNotConfirmed
from .core.transactions import unit_of_work
from .database import utcnow
from .extensions import db
from .models import CalendarFeed, User


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_of(user: User) -> CalendarFeed | None:
    return db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user.id))


@unit_of_work
def rotate_feed(user: User) -> str:
    """A new secret URL token for the user; any previous one stops working at once."""
    AddressNotConfirmed.unless_confirmed(user)
    token = secrets.token_urlsafe(32)
    feed = feed_of(user)
    if feed is None:
        feed = CalendarFeed(user_id=user.id)
        db.session.add(feed)
    feed.token_hash = digest(token)
    feed.created_at = utcnow()
    return token


@unit_of_work
def revoke_feed(user: User) -> bool:
    """Turn the user's feed off; whether they had one."""
    removed = db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    return removed.rowcount > 0


def owner_of(token: str) -> User | None:
    return db.session.scalar(
        select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(CalendarFeed.token_hash == digest(token), User.is_active_account.is_(True))
    )
