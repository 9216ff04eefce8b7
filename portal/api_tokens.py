"""Personal API tokens: issued once, stored hashed, looked up by a public prefix.

A token reads `est_<prefix>_<secret>`. The prefix (public, unique) finds the row;
the SHA-256 of the whole token is compared in constant time. The secret has 256
bits of entropy, so a plain hash (no slow KDF) is the right tool.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from datetime import datetime, timedelta
from typing import Any, cast

from flask import after_this_request, current_app, has_request_context, request
from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.util import identity_key

from .core.errors import AddressNotConfirmed
from .core.transactions import unit_of_work
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


_tokens = ApiToken.__table__
# The user's columns by attribute name: the lookup reads them on the table, not the entity.
_USER_COLUMNS = tuple((attr.key, attr.columns[0]) for attr in User.__mapper__.column_attrs)
# Built once, on the tables: every API call runs it, and an ORM select of the User costs
# several times the Python work of reading its columns (#19). The object is built below.
_LOOKUP = (
    select(
        _tokens.c.id.label("token_id"),
        _tokens.c.token_hash,
        _tokens.c.revoked_at,
        _tokens.c.last_used_at,
        *(column for _, column in _USER_COLUMNS),
    )
    .join_from(_tokens, User.__table__, User.__table__.c.id == _tokens.c.user_id)
    .where(_tokens.c.prefix == bindparam("prefix"))
)
_WRITE_LAST_USE = (
    update(_tokens)
    .where(_tokens.c.id == bindparam("token_id"))
    .values(last_used_at=bindparam("used_at"))
)


def _user_of(found: Row[Any]) -> User:
    """The token's user as a persistent object of this session, from the columns read:
    the one the identity map already holds, or one built from them (no second query)."""
    values = {key: found._mapping[column] for key, column in _USER_COLUMNS}
    held = db.session.identity_map.get(identity_key(User, values["id"]))
    if held is not None:
        return cast(User, held)
    # Made as the ORM's loader makes a row's object (no __init__, values set as loaded):
    # about half the Python work of User(**values), which sets each one as a change.
    user = User.__mapper__.class_manager.new_instance()
    instance_state(user).dict.update(values)
    make_transient_to_detached(user)
    db.session.add(user)
    return cast(User, user)


def user_for_token(raw: str, *, now: datetime | None = None) -> User | None:
    """The active user a live token belongs to, or None (unknown, revoked, deactivated).
    Read afresh on every call: a token revoked, or a user deactivated, on any instance is
    refused by the next request everywhere."""
    prefix = _parse(raw)
    if prefix is None:
        return None
    found = db.session.connection().execute(_LOOKUP, {"prefix": prefix}).one_or_none()
    if found is None or not hmac.compare_digest(found.token_hash, _digest(raw)):
        return None
    if found.revoked_at is not None or not found.is_active_account:
        return None
    user = _user_of(found)
    now = now or utcnow()
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
        if has_request_context():
            _last_uses().note(found.token_id, now)
            after_this_request(_write_due_last_uses)
        else:
            _write_last_uses({found.token_id: now})
    return user


class LastUses:
    """The last uses this process saw and has not written yet. They are written together,
    at most once a LAST_USED_RESOLUTION and after the response is built, so no request
    (a purchase least of all) writes a token row inside its own transaction. A process
    that stops loses at most a minute of these hints."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, datetime] = {}
        # time.monotonic() of the last write (of the start, before the first).
        self.written_at = time.monotonic()

    def note(self, token_id: int, now: datetime) -> None:
        with self._lock:
            self._pending[token_id] = now

    def take(self, *, due_only: bool = True) -> dict[int, datetime]:
        """The uses to write now (none before the interval is up, unless `due_only` is off)."""
        with self._lock:
            elapsed = time.monotonic() - self.written_at
            if due_only and elapsed < LAST_USED_RESOLUTION.total_seconds():
                return {}
            taken, self._pending = self._pending, {}
            self.written_at = time.monotonic()
            return taken


LAST_USES = "portal_api_token_uses"


def _last_uses() -> LastUses:
    uses = current_app.extensions.get(LAST_USES)
    if uses is None:
        uses = current_app.extensions.setdefault(LAST_USES, LastUses())
    return uses


def write_last_uses(*, due_only: bool = True) -> int:
    """Write the pending last uses of this app's process; returns how many."""
    taken = _last_uses().take(due_only=due_only)
    if taken:
        _write_last_uses(taken)
    return len(taken)


@unit_of_work
def _write_last_uses(uses: dict[int, datetime]) -> None:
    # On the table, not the entity: no ORM object is kept in step with a last-use stamp.
    db.session.execute(
        _WRITE_LAST_USE, [{"token_id": key, "used_at": at} for key, at in uses.items()]
    )


def _write_due_last_uses(response):
    write_last_uses()
    return response


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )
