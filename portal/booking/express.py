"""The express seat: a workshop seat bought by ids, in Core statements shaped like the
bare-SQL baseline (bench/baseline_app.py), for the busiest request of all.

It takes the common case only: a public, scheduled, upcoming workshop session of an
active service with a seat free. Its statements are the general path's (lock the
session row, insert the order, its outbox rows, the booking, the webhook event if
anyone listens) without the ORM's unit of work, and the same database rules decide:
the capacity CHECK and the seat triggers, the unique index on an active seat. Anything
else (a full session whose lapsed holds must go to the waitlist first, a refusal and
its message) is left to the general path (checkout.py), which says no in one place.

It answers with a `Sale`: the values it wrote and locked, as plain data. Building
persistent ORM objects for an answer that only shows them cost about a tenth of the
request (#19); a caller that wants the Order reads it by `Sale.id`.

The seat's row lock is taken as late as it can be (#19): by the booking's INSERT itself,
whose SELECT locks the session row and takes the seat only if the session still sells it
(scheduled, public, not started, at the time that was read, a seat free; on PostgreSQL
under READ COMMITTED the conditions are checked again on the row as it stands once the
lock is granted). The order and its outbox rows, written before, are outside the lock,
so buyers of one session queue for the booking, the audit entry and the COMMIT only. A
caller that read the row unlocked (`read_seat`) and finds the seat gone (`SeatGone`)
rolls its unit of work back and asks the general path, which locks first.

On PostgreSQL the read also draws the order's and the booking's ids from their
sequences, and the order, its outbox rows, the booking and the audit entry go in one
statement: the first two as INSERTs in its WITH, the entry appended by `audit_append`
(migration 0045) called in the booking INSERT's RETURNING, on the row it inserted, so
only after the seat's lock and never for a seat gone. Each statement a purchase saves is
a round trip and a backend's work on a machine where the database and the app share the
cores (#19: with the outbox's INSERT left out, 8 to 24% more purchases per second). A
seat gone rolls them back together. SQLite runs them as separate statements, the entry
appended as the unit of work commits: there, a statement costs no round trip.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Executable, Row, Select, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.util import identity_key

from .. import audit
from ..core.errors import AlreadyBooked
from ..core.transactions import translate_integrity_error
from ..database import with_defaults
from ..extensions import db
from ..models import (
    Booking,
    BookingStatus,
    Notification,
    Order,
    OrderStatus,
    PaymentPolicy,
    Service,
    ServiceSession,
    ServiceType,
    SessionStatus,
    User,
    Visibility,
    WebhookEventType,
    deposit_for,
)
from ..notifications import outbox
from . import events, notices
from .locks import SEAT_LOCK, SEAT_READ
from .payment_providers import default_provider_name
from .seats import new_booking_entry, order_terms, second_seat_refusal
from .transitions import SEAT_TRIGGER_COLUMNS

log = logging.getLogger(__name__)

_ORDER_INSERT = insert(Order.__table__).returning(Order.__table__.c.id)
_sessions, _bookings = ServiceSession.__table__, Booking.__table__


def _bound(name: str):
    # The booking's given id is "booking_id": a parameter named as a column ("id") would
    # also fill that column of the INSERTs in the statement's WITH.
    return bindparam("booking_id" if name == "id" else name, type_=_bookings.c[name].type)


# The booking, taken only while its session still sells the seat; the SELECT locks the
# session row (FOR UPDATE; SQLite's writer already holds the database). No row: SeatGone.
# Every column with a Python-side default is given too (sell_seat fills them with
# database.with_defaults): in a statement with a WITH, SQLAlchemy fills in none.
_SEAT_GIVEN = ["user_id", "order_id", "status", "price_charged_cents", "created_at"]
_SEAT_GIVEN += ["pending_payment_at", "confirmed_at"]
_SEAT_GIVEN += [
    column.name
    for column in _bookings.c
    if column.default is not None and column.name not in _SEAT_GIVEN
]


def _seat_insert(given: list[str]):
    return (
        insert(_bookings)
        .from_select(
            ["service_id", "service_session_id", *given],
            select(_sessions.c.service_id, _sessions.c.id, *(_bound(name) for name in given))
            .where(
                # Named as the column it fills: the seat metric reads it (portal/ops/metrics.py).
                _sessions.c.id == bindparam("service_session_id"),
                _sessions.c.status == SessionStatus.SCHEDULED,
                _sessions.c.visibility == Visibility.PUBLIC,
                _sessions.c.start_time
                == bindparam("start_time", type_=_sessions.c.start_time.type),
                _sessions.c.start_time > bindparam("now", type_=_sessions.c.start_time.type),
                _sessions.c.end_time.is_not_distinct_from(
                    bindparam("end_time", type_=_sessions.c.end_time.type)
                ),
                _sessions.c.current_participants < _sessions.c.max_participants,
            )
            .with_for_update(of=_sessions),
        )
        .returning(_bookings.c.id)
    )


_SEAT_INSERT = _seat_insert(_SEAT_GIVEN)


# PostgreSQL: the seat's read draws the order's and the booking's ids, so the order, its
# messages and the audit entry can be written in the booking's statement (module
# docstring). Ids drawn for a purchase that then takes the general path are skipped, as a
# rolled-back INSERT's would be.
_SEAT_READ_NUMBERED = SEAT_READ.add_columns(
    func.nextval(func.pg_get_serial_sequence(Order.__tablename__, "id")).label("next_order_id"),
    func.nextval(func.pg_get_serial_sequence(Booking.__tablename__, "id")).label("next_booking_id"),
)
_SALES: dict[tuple[Any, ...], Executable] = {}


def _sale_statement(
    order_keys: tuple[str, ...], notice_keys: tuple[str, ...], notices: int
) -> Executable:
    """The booking's INSERT (its id given) with the order's and its outbox rows' INSERTs in
    its WITH, and the audit entry's append called in its RETURNING, on the row it inserted:
    after the seat's lock, and never for a seat gone. Parameters: order_<column>,
    notice<i>_<column>, audit.append_call's. Built once per shape."""
    shape = (order_keys, notice_keys, notices)
    statement = _SALES.get(shape)
    if statement is None:
        orders, messages = Order.__table__, Notification.__table__
        sale = _seat_insert(["id", *_SEAT_GIVEN]).returning(audit.APPEND_CALL.label("audited"))
        order = insert(orders).values(
            {key: bindparam(f"order_{key}", type_=orders.c[key].type) for key in order_keys}
        )
        sale = sale.add_cte(order.cte("sold_order"))
        # One INSERT per message: a multi-row VALUES is not cached by SQLAlchemy, and
        # compiling the statement on every purchase cost more than the round trips saved.
        for i in range(notices):
            message = insert(messages).values(
                {
                    key: bindparam(f"notice{i}_{key}", type_=messages.c[key].type)
                    for key in notice_keys
                }
            )
            sale = sale.add_cte(message.cte(f"sold_notice{i}"))
        statement = _SALES.setdefault(shape, sale)
    return statement


class SeatGone(Exception):
    """The session read unlocked stopped selling the seat before the booking's INSERT
    locked it (filled, canceled, moved): the caller's unit of work must roll back, and
    the general path decide with the row locked. Never shown to anyone."""


@dataclass(frozen=True)
class SoldSeat:
    """The booking the express path wrote, as the answer shows it."""

    id: int
    status: BookingStatus
    service_id: int
    service_session_id: int
    order_id: int
    start_time: datetime
    end_time: datetime | None

    # The names Booking answers them by, so one serializer shows either.
    def get_start_time(self) -> datetime | None:
        return self.start_time

    def get_end_time(self) -> datetime | None:
        return self.end_time


@dataclass(frozen=True)
class Sale:
    """The order the express path wrote, with its one booking."""

    id: int
    user_id: int
    status: OrderStatus
    service_id: int
    total_cents: int
    deposit_cents: int | None
    currency: str
    hold_expires_at: datetime | None
    paid_at: datetime | None
    bookings: tuple[SoldSeat, ...]


@dataclass(frozen=True)
class Unless:
    """A refusal a caller on a floor above asks a purchase to make (records: a required
    intake form unanswered). `clause` is a boolean SQL expression built once with bind
    parameters (`params`); the express path reads it as a column of the seat's lock, so
    it costs no statement of its own (#19); other paths ask it first (`holds`). The error
    is made by `refusal` only when raised: its translated message would otherwise make
    every purchase pick a locale (and so load the signed-in user) for nothing."""

    clause: ColumnElement[bool]
    params: dict[str, Any]
    refusal: Callable[[], Exception]

    def holds(self) -> bool:
        statement = _ASKED.get(id(self.clause))
        if statement is None:
            statement = _ASKED.setdefault(id(self.clause), select(self.clause))
        return bool(db.session.connection().scalar(statement, self.params))


# Statements built once per clause (module constants, so their ids stay theirs).
_ASKED: dict[int, Select[Any]] = {}
_READS: dict[int, Select[Any]] = {}
_NUMBERED_READS: dict[int, Select[Any]] = {}
_LOCKS: dict[int, Select[Any]] = {}


def read_seat(session_id: int, unless: Unless | None = None) -> Row[Any] | None:
    """The session row with its service's columns (locks.SEAT_READ), unlocked: the
    booking's INSERT locks it (module docstring). As `lock_seat` otherwise."""
    if db.session.connection().dialect.name == "sqlite":
        return _seat_row(SEAT_READ, _READS, session_id, unless)
    return _seat_row(_SEAT_READ_NUMBERED, _NUMBERED_READS, session_id, unless)


def lock_seat(session_id: int, unless: Unless | None = None) -> Row[Any] | None:
    """The locked session row with its service's columns (locks.SEAT_LOCK), and with
    `unless`, whether it refuses (column `refused`). Raises the refusal itself when the
    session does not exist and the clause holds, as it would be asked first elsewhere."""
    return _seat_row(SEAT_LOCK, _LOCKS, session_id, unless)


def _seat_row(
    base: Select[Any], built: dict[int, Select[Any]], session_id: int, unless: Unless | None
) -> Row[Any] | None:
    statement: Select[Any] = base
    params = {"session_id": session_id}
    if unless is not None:
        with_clause = built.get(id(unless.clause))
        if with_clause is None:
            with_clause = built.setdefault(
                id(unless.clause), base.add_columns(unless.clause.label("refused"))
            )
        statement, params = with_clause, {**unless.params, **params}
    row = db.session.connection().execute(statement, params).one_or_none()
    if unless is not None and (row.refused if row is not None else unless.holds()):
        raise unless.refusal()
    return row


def takes(row: Row[Any], service_id: int, now: datetime) -> bool:
    """Whether the express path sells this seat; if not, the general path decides."""
    return (
        row.service_id == service_id
        and row.service_type == ServiceType.WORKSHOP
        and row.is_active
        and row.visibility == Visibility.PUBLIC
        and row.status == SessionStatus.SCHEDULED
        and row.start_time is not None
        and row.start_time > now
        and row.current_participants < row.max_participants
    )


def _one_statement_sale(
    row: Row[Any], order_values: dict[str, Any], client_id: int, entry: dict
) -> tuple[Executable, dict[str, Any]]:
    """The booking's statement with the order and its messages in its WITH and the audit
    entry in its RETURNING, and their parameters but the booking's own (PostgreSQL: the
    order's and the booking's ids drawn by the read `row`)."""
    order = with_defaults(Order.__table__, {"id": row.next_order_id, **order_values})
    placed = notices.order_placed_notices(
        row.next_order_id, client_id, order["status"], row.primary_practitioner_id
    )
    rows = outbox.queued(placed)
    notice_keys = tuple(rows[0]) if rows else ()
    statement = _sale_statement(tuple(order), notice_keys, len(rows))
    values = {f"order_{key}": value for key, value in order.items()}
    for i, message in enumerate(rows):
        values.update({f"notice{i}_{key}": message[key] for key in notice_keys})
    return statement, {"booking_id": row.next_booking_id, **values, **audit.append_call([entry])}


def _display_title(row: Row[Any]) -> str:
    """The session's title as ServiceSession.display_title words it, for the refusal (a
    transient object, never added: only the rare refusal pays for it)."""
    service = Service(name=row.service_name)
    return ServiceSession(
        title=row.title, sequence_number=row.sequence_number, service=service
    ).display_title


def sell_seat(user: User, row: Row[Any], now: datetime) -> Sale:
    """The seat in the session `row` read (inside the caller's unit of work). Raises
    SeatGone if the session no longer sells it when its row is locked; a caller that
    locked the row first never sees that."""
    terms = order_terms(
        row.price_cents,
        row.payment_policy,
        deposit_for(row.payment_policy, row.price_cents, row.deposit_cents, row.deposit_percent),
        now,
    )
    order_values = {
        "user_id": user.id,
        "service_id": row.service_id,
        "currency": row.currency,
        "created_at": now,
        "payment_provider": default_provider_name(),
        **terms,
    }
    # Paid (free) or pay-later: confirmed at once; otherwise held until paid.
    confirmed = (
        terms["status"] == OrderStatus.PAID or terms["payment_policy"] == PaymentPolicy.PAY_LATER
    )
    status = BookingStatus.CONFIRMED if confirmed else BookingStatus.PENDING_PAYMENT

    def audit_entry(booking_id: int, order_id: int) -> dict:
        return new_booking_entry(
            booking_id=booking_id,
            client_id=user.id,
            status=status,
            session_id=row.id,
            order_id=order_id,
            price_charged_cents=terms["total_cents"],
            practitioner_id=row.practitioner_id,
        )

    conn = db.session.connection()
    numbered = getattr(row, "next_order_id", None) is not None
    sale: Executable
    sale_values: dict[str, Any]
    if numbered:
        order_id = row.next_order_id
        sale, sale_values = _one_statement_sale(
            row, order_values, user.id, audit_entry(row.next_booking_id, order_id)
        )
    else:
        order_id = conn.execute(_ORDER_INSERT, order_values).scalar_one()
        notices.order_placed(order_id, user.id, terms["status"], row.primary_practitioner_id)
        sale, sale_values = _SEAT_INSERT, {}
    booking_values = with_defaults(
        _bookings,
        {
            "user_id": user.id,
            "service_session_id": row.id,
            "order_id": order_id,
            "status": status,
            "price_charged_cents": terms["total_cents"],
            "created_at": now,
            "pending_payment_at": None if confirmed else now,
            "confirmed_at": now if confirmed else None,
            "start_time": row.start_time,
            "end_time": row.end_time,
            "now": now,
            **sale_values,
        },
    )
    try:
        booking_id = conn.execute(sale, booking_values).scalar_one_or_none()
    except IntegrityError as exc:
        if isinstance(translate_integrity_error(exc), AlreadyBooked):
            raise second_seat_refusal(_display_title(row)) from exc
        raise
    if booking_id is None:
        raise SeatGone(row.id)
    if not numbered:
        # Appended as the unit of work commits (PostgreSQL: by the statement above).
        audit.queue(audit_entry(booking_id, order_id))
    # The seat triggers moved the session's counters: a copy this session holds reloads them.
    held = db.session.identity_map.get(identity_key(ServiceSession, row.id))
    if held is not None:
        db.session.expire(held, SEAT_TRIGGER_COLUMNS)
    created = WebhookEventType.BOOKING_CREATED
    if events.wanted_by(created, row.practitioner_id, row.webhook_listeners):
        data = events.booking_data(
            booking_id=booking_id,
            status=status,
            client_id=user.id,
            order_id=order_id,
            service_id=row.service_id,
            session_id=row.id,
            practitioner_id=row.practitioner_id,
            start_time=row.start_time,
            end_time=row.end_time,
        )
        events.emit(created, practitioner_id=row.practitioner_id, data=data, now=now)
    log.info("seat sold: order %s, booking %s, session %s", order_id, booking_id, row.id)
    seat = SoldSeat(
        id=booking_id,
        status=status,
        service_id=row.service_id,
        service_session_id=row.id,
        order_id=order_id,
        start_time=row.start_time,
        end_time=row.end_time,
    )
    return Sale(
        id=order_id,
        user_id=user.id,
        status=terms["status"],
        service_id=row.service_id,
        total_cents=terms["total_cents"],
        deposit_cents=terms["deposit_cents"],
        currency=row.currency,
        hold_expires_at=terms["hold_expires_at"],
        paid_at=terms["paid_at"],
        bookings=(seat,),
    )
