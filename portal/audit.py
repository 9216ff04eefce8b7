"""The audit log's writer and verifier (the Indico pattern: operations log what they do).

A domain operation calls `record()` inside its unit of work; the entry is appended when
that unit commits, in the same transaction, so a rolled-back change leaves no entry and a
committed one always has its entry. (The express purchase on PostgreSQL appends its entry
in its last statement instead, with `APPEND_CALL`: booking/express.py.) Appends are
serialised (PostgreSQL: a transaction-level advisory lock; SQLite: the write lock every
unit of work takes with BEGIN IMMEDIATE) and taken last, just before COMMIT, so the lock
is held for one read and the INSERTs only.

Each entry's hash is SHA-256 of the previous entry's hash and the entry's own canonical
JSON: `verify()` walks the chain and names the first entry that was edited, or the first
place where one is missing. (Removing the newest entries leaves a shorter chain that is
still whole: compare the head `verify()` reports with one kept elsewhere to see that.)

Why the chain head is read in the writing transaction (weighed for #19, where the
purchase's cost was measured): the alternatives that keep it out of the hot transaction
leave the entry unhashed for a while (a worker "seals" rows later, so the newest entries
are as editable as any row until it runs, and the append-only trigger must let exactly
that one UPDATE through) or drop the chain for per-row hashes ordered by an id sequence
(PostgreSQL sequences leave gaps on rollback, so a deleted entry could no longer be told
from a rolled-back one). Either weakens what the log is for. What the head costs is one
indexed read (SQLite: inside the write lock the purchase holds anyway; PostgreSQL: inside
`audit_append`, migration 0045, one round trip that also takes the advisory lock, which
serialises only audited writes and only from just before COMMIT, then hashes and inserts
the entries); its Python cost is kept small by statements built once below.

It stands on the kernel alone (tests/unit/test_package_layering.py), so booking, accounts
and every other package that writes may call it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    Text,
    bindparam,
    cast,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session

from .core.transactions import inside_unit_of_work
from .database import utcnow
from .extensions import db
from .models.audit import AuditAction, AuditEntry

log = logging.getLogger(__name__)

GENESIS = "0" * 64
# The advisory lock's key on PostgreSQL: any constant no other lock in the portal uses.
_CHAIN_LOCK = 0x41554449  # "AUDI"
_PENDING = "portal_audit_pending"
_ACTOR = "portal_audit_actor_id"
# Rows read per batch by verify(): memory stays flat however long the log grows.
_VERIFY_BATCH = 1000


class AuditOutsideUnit(RuntimeError):
    """An entry recorded outside a unit of work would be written by whichever commit came
    next, or never: a programming error, never a user's (so no translated message)."""


def act_as(user_id: int | None) -> None:
    """The request's actor when it is not the cookie's user (the API's bearer token)."""
    setattr(g, _ACTOR, user_id)


def _request_actor() -> tuple[int | None, str | None]:
    if not has_request_context():
        return None, None
    actor = g.get(_ACTOR)
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user.id
    # remote_addr is the client's address after ProxyFix (portal/ops) has read X-Forwarded-For.
    return actor, request.remote_addr


def _plain(values: dict | None) -> dict | None:
    """Values as JSON keeps them (dates as ISO text, enums as their values), so the hash
    computed now is the hash computed from the stored row later."""
    if values is None:
        return None
    return json.loads(json.dumps(values, default=_json_default, sort_keys=True))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return str(value)


def entry(
    action: AuditAction,
    object_type: str,
    object_id: int | None,
    *,
    practitioner_id: int | None = None,
    client_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    actor_id: int | None = None,
) -> dict:
    """An entry's values, for `record` or for a statement that appends it itself
    (`append_call`). `actor_id` defaults to the request's signed-in user (none for the
    worker and the CLI: the system)."""
    if not inside_unit_of_work():
        raise AuditOutsideUnit(f"audit entry {action.value} recorded outside a unit of work")
    request_actor, address = _request_actor()
    return {
        "actor_id": actor_id if actor_id is not None else request_actor,
        "address": address,
        "action": AuditAction(action).value,
        "object_type": object_type,
        "object_id": object_id,
        "practitioner_id": practitioner_id,
        "client_id": client_id,
        "before": _plain(before),
        "after": _plain(after),
    }


def record(action: AuditAction, object_type: str, object_id: int | None, **values: Any) -> None:
    """Queue an entry (the arguments are `entry`'s) for the current unit of work; it is
    written as the unit commits."""
    queue(entry(action, object_type, object_id, **values))


def queue(values: dict) -> None:
    db.session().info.setdefault(_PENDING, []).append(values)


def canonical(entry: dict) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(previous: str, entry: dict) -> str:
    return hashlib.sha256((previous + canonical(entry)).encode()).hexdigest()


def _hashed_fields(row: AuditEntry) -> dict:
    return {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "actor_id": row.actor_id,
        "address": row.address,
        "action": AuditAction(row.action).value,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "practitioner_id": row.practitioner_id,
        "client_id": row.client_id,
        "before": row.before,
        "after": row.after,
    }


# Built once, on the table: every purchase runs them (the ORM's select and bulk insert
# cost several times the Python work, and nothing is wanted back as an object).
_entries = AuditEntry.__table__
_HEAD = select(_entries.c.seq, _entries.c.hash).order_by(_entries.c.seq.desc()).limit(1)
_APPEND = insert(_entries)
# PostgreSQL: the lock, the head, the hashes and the INSERTs in one call (migration 0045:
# why it is a function, and how it hashes). A statement may make the call itself, after
# its own writes (`append_call`): the purchase saves a round trip that way.
APPEND_CALL = func.audit_append(
    bindparam("audit_key", type_=BigInteger), cast(bindparam("audit_entries", type_=Text), JSON)
)
_APPEND_ON_POSTGRES = select(APPEND_CALL)
_LAST_KEY = "seq"


def canonical_before_seq(entry: dict) -> str:
    """The entry's canonical JSON (given without "seq") up to where its place goes: "seq"
    sorts after every other key, so it is the last, and the function appends the place
    and the closing brace."""
    if max(entry) > _LAST_KEY:
        raise ValueError(f"audit key {max(entry)!r} sorts after {_LAST_KEY!r}")
    return canonical(entry)[:-1] + f',"{_LAST_KEY}":'


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    # Flush first: the changes the entries describe are written before the chain is locked.
    session.flush()
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        first, last = _append_under_write_lock(conn, pending)
    else:
        first, last = _append_on_postgres(conn, pending)
    log.info("audit entries appended: seq %s..%s", first, last)


def _append_under_write_lock(conn: Connection, pending: list[dict]) -> tuple[int, int]:
    """SQLite: the unit of work holds the database's write lock; read the head, insert."""
    head = conn.execute(_HEAD).first()
    seq, previous = (head.seq, head.hash) if head else (0, GENESIS)
    rows = []
    for entry in pending:
        seq += 1
        # Microseconds are what both databases keep.
        hashed = {**entry, "seq": seq, "at": utcnow().isoformat()}
        previous = chain_hash(previous, hashed)
        rows.append(
            {**entry, "seq": seq, "at": datetime.fromisoformat(hashed["at"]), "hash": previous}
        )
    conn.execute(_APPEND, rows)
    return rows[0]["seq"], seq


def _append_on_postgres(conn: Connection, pending: list[dict]) -> tuple[int, int]:
    """PostgreSQL: one call; the function gives each entry its place and hash."""
    last = conn.execute(_APPEND_ON_POSTGRES, append_call(pending)).scalar_one()
    return last - len(pending) + 1, last


def append_call(entries: list[dict]) -> dict[str, Any]:
    """The parameters of APPEND_CALL appending these entries (PostgreSQL). A statement
    that makes the call appends them instead of the commit: pass entries not queued."""
    sent = []
    for values in entries:
        # Microseconds are what both databases keep.
        stamped = {**values, "at": utcnow().isoformat()}
        sent.append({**stamped, "canonical": canonical_before_seq(stamped)})
    return {"audit_key": _CHAIN_LOCK, "audit_entries": json.dumps(sent)}


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class Verification:
    checked: int
    head_seq: int
    head_hash: str
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _rows() -> Iterator[AuditEntry]:
    after = 0
    while True:
        batch = list(
            db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(_VERIFY_BATCH)
            )
        )
        yield from batch
        if len(batch) < _VERIFY_BATCH:
            return
        after = batch[-1].seq
        db.session.expunge_all()


def verify() -> Verification:
    """Walk the chain from the first entry; stop at the first one that is missing or
    whose hash does not follow from its predecessor and its own values."""
    previous, expected, checked = GENESIS, 1, 0
    for row in _rows():
        if row.seq != expected:
            problem = f"entry {expected} is missing (the next one is {row.seq})"
            return Verification(checked, expected - 1, previous, problem)
        if chain_hash(previous, _hashed_fields(row)) != row.hash:
            problem = f"entry {row.seq} (id {row.id}) does not match its hash: it was changed"
            return Verification(checked, expected - 1, previous, problem)
        previous, expected, checked = row.hash, expected + 1, checked + 1
    return Verification(checked, expected - 1, previous, None)
