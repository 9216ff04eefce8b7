"""Personal API tokens: issued once, stored hashed, looked up by a public prefix.

A token reads `est_<prefix>_<secret>`. The prefix (public, unique) finds the row;
the SHA-256 of the whole token is compared in constant time. The secret has 256
bits of entropy, so a plain hash (no slow KDF) is the right tool.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from functools import partial

from flask import after_this_request, has_request_context, request
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from .core.errors import AddressNotConfirmed
from .core.transactions import ride_along, unit_of_work, write_riders
from .database import utcnow
from .extensions import db
from .models import ApiToken, User

TOKEN_SCHEME = "est"
# last_used_at is a hint for the owner, not an audit log: write it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@unit_of_work
def issue_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the user; the raw token is returned here and never again."""
    AddressNotConfirmed.unless_confirmed(user)
    prefix = secrets.token_hex(6)
    raw = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user_id=user.id, name=name.strip()[:100], prefix=prefix, token_hash=_digest(raw)
    )
    db.session.add(token)
    db.session.flush()
    return token, raw


@unit_of_work
def revoke_token(token: ApiToken, *, now: datetime | None = None) -> None:
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    db.session.expire(token)


def revoke_all(user: User, *, now: datetime | None = None) -> list[str]:
    """Revoke every live token of the user, in the caller's transaction; their names."""
    revoked = db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .returning(ApiToken.name)
    )
    return sorted(revoked.scalars())


def _parse(raw: str) -> str | None:
    scheme, _, rest = raw.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != TOKEN_SCHEME or not prefix or not secret:
        return None
    return prefix


def bearer_token() -> str | None:
    """The token of the request's `Authorization: Bearer <token>` header, if any."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    return raw.strip() if scheme.lower() == "bearer" and raw.strip() else None


def user_for_token(raw: str, *, now: datetime | None = None) -> User | None:
    """The active user a live token belongs to, or None (unknown, revoked, deactivated)."""
    prefix = _parse(raw)
    if prefix is None:
        return None
    token = db.session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.prefix == prefix)
    )
    if token is None or not hmac.compare_digest(token.token_hash, _digest(raw)):
        return None
    if token.is_revoked or not token.user.is_active:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        if has_request_context():
            # Written with the request's own booking write, or alone once the view is done:
            # a write of its own up front would end the request's transaction and
            # expire the user and everything loaded with it.
            ride_along(f"api_token_touch_{token.id}", partial(_write_last_use, token.id, now))
            after_this_request(_write_leftovers)
        else:
            _touch(token.id, now)
    return token.user


def _write_last_use(token_id: int, now: datetime) -> None:
    # On the table, not the entity: no ORM object is kept in step with a last-use
    # stamp, and a plain Core UPDATE is far less Python work on every API call.
    tokens = ApiToken.__table__
    db.session.execute(update(tokens).where(tokens.c.id == token_id).values(last_used_at=now))


_touch = unit_of_work(_write_last_use)


def _write_leftovers(response):
    write_riders()
    return response


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )
