"""The unit of work every write runs in, whichever package makes it."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import ParamSpec, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, delete, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from ..database import write_transaction
from ..extensions import db
from .errors import (
    AlreadyBooked,
    AlreadyWaiting,
    DomainError,
    InvalidInput,
    SessionFull,
    SlotUnavailable,
)

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_inside_unit: ContextVar[bool] = ContextVar("inside_unit_of_work", default=False)
_if_rolled_back: ContextVar[dict[Hashable, Callable[[], object]] | None] = ContextVar(
    "unit_if_rolled_back", default=None
)

# PostgreSQL SQLSTATEs that mean "run the whole transaction again".
_RETRYABLE_SQLSTATES = {"40001", "40P01"}
_ATTEMPTS = 5

# Database constraint names -> the domain error a person should see when the
# database, not the Python checks, was the one to refuse.
_CONSTRAINT_ERRORS: list[tuple[str, type[DomainError], str]] = [
    ("ck_service_sessions_capacity", SessionFull, "This session is full."),
    ("uq_bookings_active_seat", AlreadyBooked, "You already hold a seat in this session."),
    # SQLite names the columns of a unique index, not the index.
    (
        "bookings.user_id, bookings.service_session_id",
        AlreadyBooked,
        "You already hold a seat in this session.",
    ),
    ("service_sessions_no_overlap", SlotUnavailable, "That time overlaps another session."),
    ("uq_waitlist_entries_open", AlreadyWaiting, "You are already on this waitlist."),
    # Two practitioners claiming one public page address at once (portal/profiles.py).
    ("pk_practitioner_slugs", InvalidInput, "That address is taken; pick another."),
    ("practitioner_slugs.slug", InvalidInput, "That address is taken; pick another."),
]


def translate_integrity_error(exc: IntegrityError) -> DomainError | None:
    text = str(exc.orig)
    for constraint, error_cls, message in _CONSTRAINT_ERRORS:
        if constraint in text:
            return error_cls(message)
    return None


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def unit_of_work(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a domain operation all-or-nothing, retrying PostgreSQL deadlocks.

    Nested calls join the outer unit, so operations compose without committing
    half-way. Constraint violations come back as the matching DomainError.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if _inside_unit.get():
            return fn(*args, **kwargs)
        standing: dict[Hashable, Callable[[], object]] = {}
        undo_token = _if_rolled_back.set(standing)
        try:
            return _run(standing, *args, **kwargs)
        except BaseException:
            _if_rolled_back.reset(undo_token)
            for write in standing.values():
                write()
            raise
        finally:
            if _if_rolled_back.get() is standing:
                _if_rolled_back.reset(undo_token)

    def _run(
        standing: dict[Hashable, Callable[[], object]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        for attempt in range(1, _ATTEMPTS + 1):
            standing.clear()
            token = _inside_unit.set(True)
            try:
                with write_transaction():
                    return fn(*args, **kwargs)
            except IntegrityError as exc:
                domain_error = translate_integrity_error(exc)
                if domain_error is None:
                    raise
                raise domain_error from exc
            except DBAPIError as exc:
                if _sqlstate(exc) in _RETRYABLE_SQLSTATES and attempt < _ATTEMPTS:
                    log.info("retrying %s after %s", fn.__name__, _sqlstate(exc))
                    continue
                raise
            finally:
                _inside_unit.reset(token)
        raise AssertionError("unreachable")

    return wrapper


def inside_unit_of_work() -> bool:
    return _inside_unit.get()


def if_rolled_back(key: Hashable, write: Callable[[], object]) -> None:
    """Run `write` in a unit of work of its own if the current unit rolls back.

    For work an operation did on the way that must stand even when the operation
    is refused: a purchase refused as full has released expired holds, and those
    seats must still go to the waitlist. Outside a unit it does nothing (there is
    nothing to roll back); a second write under the same key is the same work.
    """
    pending = _if_rolled_back.get()
    if pending is not None:
        pending.setdefault(key, write)


# Rows a prune deletes per transaction: a big backlog never makes one long lock.
PRUNE_BATCH = 1000


def delete_in_batches(key: InstrumentedAttribute, *criteria: ColumnElement[bool]) -> int:
    """Delete the rows of key's table that match `criteria`, PRUNE_BATCH at a time, each
    batch a unit of work of its own; returns how many went."""
    deleted = 0
    while True:
        count = _delete_batch(key, criteria)
        deleted += count
        if count < PRUNE_BATCH:
            return deleted


@unit_of_work
def _delete_batch(key: InstrumentedAttribute, criteria: tuple[ColumnElement[bool], ...]) -> int:
    batch = select(key).where(*criteria).limit(PRUNE_BATCH).scalar_subquery()
    deleted = db.session.execute(
        delete(key.class_).where(key.in_(batch)).execution_options(synchronize_session=False)
    )
    return cast(CursorResult, deleted).rowcount
