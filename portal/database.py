"""Engine set-up per backend, and the one way booking writes open a transaction.

SQLite: WAL, foreign keys and a busy timeout on every connection, and transactions
that write start with BEGIN IMMEDIATE, so concurrent writers queue on the lock
instead of failing with "database is locked" half-way through.
PostgreSQL: READ COMMITTED plus explicit row locks taken by the domain layer.
"""

from __future__ import annotations

import select
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import CursorResult, DateTime, Executable, Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from .extensions import db

IMMEDIATE = "portal_begin_immediate"


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in Python; naive UTC on SQLite, timestamptz on PostgreSQL.

    SQLite keeps the text form 'YYYY-MM-DD HH:MM:SS.ffffff', so the overlap
    triggers can compare values as strings.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the portal stores aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Ids are 32-bit integer columns on PostgreSQL (SQLite stops at 64 bits): any larger
# number a request carries names nothing, and must not reach the database driver.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_sqlite(engine: Engine | None = None) -> bool:
    return (engine or db.engine).dialect.name == "sqlite"


# A pooled connection idle longer than this is pinged before a request uses it.
IDLE_PING_SECONDS = 5.0
_IDLE_SINCE = "portal_idle_since"


def _server_spoke(dbapi_connection) -> bool:
    """Whether the server sent something to a connection that asked nothing: a backend
    ended by a restart (or pg_terminate_backend) says so and closes its socket, which
    then reads as ready. A zero-timeout poll is a system call, not a round trip."""
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:
        return True  # a driver without a socket to look at: ask it
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def ping_idle_connections(engine: Engine) -> None:
    """Pessimistic disconnect handling without a round trip per request: a pooled
    connection is pinged at checkout when the server has spoken to it unasked (a
    restart ended it) or it sat idle for IDLE_PING_SECONDS (a proxy may have dropped it
    silently), and replaced if the ping fails, before the request sees it.

    Why not pool_pre_ping: it pings every checkout, a round trip on every request (#19
    measured it on the purchase). SQLAlchemy's documented custom recipe is used instead:
    raise DisconnectionError at checkout and the pool retries with a new connection.
    """

    @event.listens_for(engine, "checkin")
    def _note_idle(_dbapi_connection, record):
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_in_doubt(dbapi_connection, record, _proxy):
        since = record.info.get(_IDLE_SINCE)
        if since is None:
            return  # just opened
        fresh = time.monotonic() - since < IDLE_PING_SECONDS
        if fresh and not _server_spoke(dbapi_connection):
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means the link is gone
            raise DisconnectionError(str(exc)) from exc
        if not alive:
            raise DisconnectionError("the pooled connection did not answer the ping")


def configure_engine(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        ping_idle_connections(engine)
        return
    busy_ms = int(app.config["PORTAL_SQLITE_BUSY_TIMEOUT_MS"])

    @event.listens_for(engine, "connect")
    def _sqlite_on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_on_begin(conn):
        # On the driver's connection, as BEGIN IMMEDIATE is: through exec_driver_sql a
        # BEGIN cost the Python work of a statement on every request (#19).
        if conn.get_execution_options().get(IMMEDIATE, False):
            _begin_immediate(conn.connection.dbapi_connection, busy_ms)
        else:
            conn.connection.dbapi_connection.execute("BEGIN")


# SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25... ms between tries, so a
# writer queued behind a 1 ms transaction often sleeps while the lock sits free.
_FIRST_PAUSE, _LONGEST_PAUSE = 0.0002, 0.002


def _begin_immediate(dbapi_connection, busy_ms: int) -> None:
    """BEGIN IMMEDIATE, polling the write lock at a fine grain until busy_ms."""
    deadline = time.monotonic() + busy_ms / 1000
    pause = _FIRST_PAUSE
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {busy_ms}")


_WROTE = "portal_transaction_wrote"


@event.listens_for(Session, "after_flush")
def _note_write(session, _context):
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement_write(state):
    if not state.is_select:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_write(session, transaction):
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


_INSERTED = "portal_inserted_by_statement"


def loaded_by_insert(session: Session, obj: object) -> None:
    """`obj` came back from an INSERT ... RETURNING of this transaction. The ORM takes it
    for a row it read, so a rollback would leave it in the session, expired, naming a row
    that never was: the next statement to touch it (a transition scanning the identity
    map, say) fails with ObjectDeletedError. A rollback now removes it, as it removes the
    objects the ORM itself inserted."""
    session.info.setdefault(_INSERTED, []).append(obj)


@event.listens_for(Session, "after_commit")
def _keep_inserted(session):
    session.info.pop(_INSERTED, None)


@event.listens_for(Session, "after_rollback")
def _drop_rolled_back_inserts(session):
    for obj in session.info.pop(_INSERTED, []):
        if obj in session:
            session.expunge(obj)


def execute_write(statement: Executable, parameters: Any = None) -> CursorResult[Any]:
    """A Core write (a table's INSERT, say) run on the session's connection: a fraction of
    the Python work of session.execute, for writes on every purchase (#19). The session
    still learns that its transaction wrote, as session.execute would tell it."""
    session = db.session()
    session.info[_WROTE] = True
    return session.connection().execute(statement, parameters)


def with_defaults(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """`values` completed with the table's Python-side column defaults, as an INSERT of
    `values` would write them: for a statement that names every column itself (an INSERT
    inside another statement's WITH, where SQLAlchemy fills in no defaults)."""
    row = dict(values)
    for column in table.c:
        default = column.default
        if column.name in row or default is None or not hasattr(default, "arg"):
            continue
        # A callable default is wrapped by SQLAlchemy to take the execution context.
        row[column.name] = default.arg(None) if default.is_callable else default.arg
    return row


def _has_written(session) -> bool:
    """The open transaction wrote, or has changes waiting to be flushed."""
    return bool(session.new or session.dirty or session.deleted or session.info.get(_WROTE))


def _carry_on_reading_transaction(session) -> bool:
    """On PostgreSQL a request's read-only transaction simply becomes the unit of
    work: under READ COMMITTED every statement reads the latest committed rows and
    the unit takes its own row locks, so ending it first would only cost a COMMIT
    and a BEGIN. SQLite must begin afresh to take the write lock up front."""
    return (
        session.in_transaction() and not is_sqlite(session.get_bind()) and not _has_written(session)
    )


def _end_read_transaction(session) -> None:
    """Close the request's open transaction before the write lock is taken.

    When it only read, its objects stay loaded: expiring them would cost one
    SELECT per object on first touch, and nothing is lost by keeping them, since
    every rule is checked on rows the unit of work locks and re-reads
    (lock_sessions, lock_practitioner: populate_existing) or by a conditional
    UPDATE. A transaction that wrote (or is about to flush) commits as usual.
    """
    if _has_written(session):
        session.commit()
        return
    with kept_loaded():
        session.commit()


@contextmanager
def kept_loaded() -> Iterator[None]:
    """Objects stay loaded through the commits made inside, so a response can be
    built from what a unit of work wrote without reading it back.

    Sound for what the unit wrote or locked: those rows are as it committed them.
    A value the database itself sets (the trigger-kept seat counter) is expired by
    whoever caused it (factory.add_booking) and still reloads on first touch.
    """
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = expire


@contextmanager
def write_transaction() -> Iterator[None]:
    """One all-or-nothing unit of work for the domain layer.

    Ends whatever read transaction the request had open (on PostgreSQL a read-only
    one carries on instead), starts a fresh one that holds the SQLite write lock
    from its first statement (PostgreSQL needs no such thing: the domain takes row
    locks), commits on success and rolls back on any error, so an operation that
    writes N rows writes all or none.
    """
    session = db.session()
    if not _carry_on_reading_transaction(session):
        if session.in_transaction():
            _end_read_transaction(session)
        session.connection(execution_options={IMMEDIATE: True})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
