"""A practitioner's clients: the list (with search and the figures a practitioner asks
for first), the record page's timeline, and the practitioner's own tags and private
"about this client" note (encrypted).

A client is someone with a booking of any status in one of the practitioner's sessions;
no one else's record exists for them. Every read is a fixed number of queries, however
many clients or bookings there are (tests/integration/test_client_records.py counts).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import and_, case, delete, exists, func, or_, select, type_coerce
from sqlalchemy.orm import contains_eager

from .. import audit, crypto
from ..core.errors import InvalidInput
from ..core.transactions import unit_of_work
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..l10n import format_money
from ..models import (
    PAYMENTS_IN,
    TAG_MAX,
    AttendanceOutcome,
    AttendanceStatus,
    AuditAction,
    Booking,
    BookingStatus,
    ClientRecord,
    ClientTag,
    IntakeSubmission,
    Order,
    OrderStatus,
    Payment,
    Service,
    ServiceSession,
    SessionNote,
    User,
)
from .intake import submissions_of

log = logging.getLogger(__name__)

# The list shows this many; a search narrows it. The CSV export has every client.
LIST_LIMIT = 100
MAX_TAGS = 20
ABOUT_MAX = 20_000
_LIVE = (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED)


def _theirs(practitioner_id: int):
    return and_(
        Booking.service_session_id == ServiceSession.id,
        ServiceSession.practitioner_id == practitioner_id,
    )


def is_client_of(practitioner_id: int, client_id: int) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Booking.user_id == client_id,
                    Booking.service_session_id == ServiceSession.id,
                    ServiceSession.practitioner_id == practitioner_id,
                )
            )
        )
    )


@dataclass(frozen=True)
class ClientRow:
    client_id: int
    name: str
    email: str
    last_session: datetime | None
    next_session: datetime | None
    credits_left: int
    no_shows: int
    tags: tuple[str, ...]
    # Still owed on the practitioner's orders, per currency: (currency, minor units).
    balance_due: tuple[tuple[str, int], ...] = ()

    @property
    def balance_due_display(self) -> str:
        return ", ".join(format_money(cents, currency) for currency, cents in self.balance_due)


def client_rows(
    practitioner_id: int,
    *,
    search: str = "",
    tag: str = "",
    limit: int | None = LIST_LIMIT,
    now: datetime | None = None,
) -> list[ClientRow]:
    """The practitioner's clients by name: three queries (figures, tags, balances)."""
    now = now or utcnow()
    started = and_(ServiceSession.start_time < now, Booking.status != BookingStatus.CANCELED)
    coming = and_(ServiceSession.start_time >= now, Booking.status.in_(_LIVE))
    figures = (
        select(
            Booking.user_id.label("client_id"),
            # Typed again: MAX()/MIN() of a CASE lose the column's UTC type on SQLite.
            type_coerce(func.max(case((started, ServiceSession.start_time))), UTCDateTime()).label(
                "last_session"
            ),
            type_coerce(func.min(case((coming, ServiceSession.start_time))), UTCDateTime()).label(
                "next_session"
            ),
            func.count(case((Booking.status == BookingStatus.DRAFT, Booking.id))).label(
                "credits_left"
            ),
            func.count(
                case((AttendanceOutcome.outcome == AttendanceStatus.NO_SHOW, Booking.id))
            ).label("no_shows"),
        )
        .join(ServiceSession, _theirs(practitioner_id))
        .outerjoin(AttendanceOutcome, AttendanceOutcome.booking_id == Booking.id)
        .group_by(Booking.user_id)
        .subquery()
    )
    query = select(User.id, User.name, User.email, figures).join(
        figures, figures.c.client_id == User.id
    )
    words = search.strip().lower()
    if words:
        pattern = f"%{_escape_like(words)}%"
        query = query.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    if tag:
        query = query.where(
            exists().where(
                ClientTag.practitioner_id == practitioner_id,
                ClientTag.client_id == User.id,
                ClientTag.tag == tag,
            )
        )
    query = query.order_by(User.name, User.id)
    if limit is not None:
        query = query.limit(limit)
    rows = db.session.execute(query).all()
    tags = _tags_of(practitioner_id, [row.id for row in rows])
    balances = _balances_of(practitioner_id, [row.id for row in rows])
    return [
        ClientRow(
            client_id=row.id,
            name=row.name,
            email=row.email,
            last_session=row.last_session,
            next_session=row.next_session,
            credits_left=row.credits_left,
            no_shows=row.no_shows,
            tags=tuple(tags.get(row.id, ())),
            balance_due=tuple(balances.get(row.id, ())),
        )
        for row in rows
    ]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _balances_of(practitioner_id: int, client_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """What each client still owes on the practitioner's orders, from the ledger: each live
    order's total less what was paid toward it (Order.amount_due, in SQL), summed per
    currency. One query."""
    if not client_ids:
        return {}
    paid = (
        select(Payment.order_id, func.sum(Payment.amount_cents).label("paid"))
        .where(Payment.kind.in_(PAYMENTS_IN))
        .group_by(Payment.order_id)
        .subquery()
    )
    owed = Order.total_cents - func.coalesce(paid.c.paid, 0)
    query = (
        select(Order.user_id, Order.currency, func.sum(owed))
        .join(Service, Service.id == Order.service_id)
        .outerjoin(paid, paid.c.order_id == Order.id)
        .where(
            Order.user_id.in_(client_ids),
            Service.primary_practitioner_id == practitioner_id,
            Order.status.in_((OrderStatus.PENDING, OrderStatus.PAID)),
            owed > 0,
        )
        .group_by(Order.user_id, Order.currency)
        .order_by(Order.user_id, Order.currency)
    )
    found: dict[int, list[tuple[str, int]]] = {}
    for client_id, currency, cents in db.session.execute(query):
        found.setdefault(client_id, []).append((currency, int(cents)))
    return found


def _tags_of(practitioner_id: int, client_ids: list[int]) -> dict[int, list[str]]:
    if not client_ids:
        return {}
    found: dict[int, list[str]] = {}
    for client_id, tag in db.session.execute(
        select(ClientTag.client_id, ClientTag.tag)
        .where(ClientTag.practitioner_id == practitioner_id, ClientTag.client_id.in_(client_ids))
        .order_by(ClientTag.tag)
    ):
        found.setdefault(client_id, []).append(tag)
    return found


def practitioner_tags(practitioner_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(ClientTag.tag)
            .where(ClientTag.practitioner_id == practitioner_id)
            .distinct()
            .order_by(ClientTag.tag)
        )
    )


@dataclass(frozen=True)
class TimelineItem:
    booking_id: int
    start_time: datetime | None
    title: str
    status: BookingStatus
    attendance: AttendanceStatus | None
    note_id: int | None
    note_signed: bool


@dataclass(frozen=True)
class ClientFile:
    client: User
    about: str
    tags: list[str]
    timeline: list[TimelineItem]
    packages: list[Order]
    # Their answers to the practitioner's intake forms, newest first.
    intake: list[IntakeSubmission]

    def answers_for(self, booking_id: int) -> list[IntakeSubmission]:
        return [s for s in self.intake if s.booking_id == booking_id]


def _timeline(practitioner_id: int, client_id: int) -> list[TimelineItem]:
    rows = db.session.execute(
        # The services ride along: a session's title falls back on its service's name, and a
        # many-to-one already in the session costs no query.
        select(Booking, ServiceSession, Service, AttendanceOutcome.outcome, SessionNote)
        .join(ServiceSession, _theirs(practitioner_id))
        .join(Service, Service.id == ServiceSession.service_id)
        .outerjoin(AttendanceOutcome, AttendanceOutcome.booking_id == Booking.id)
        .outerjoin(
            SessionNote,
            and_(SessionNote.booking_id == Booking.id, SessionNote.author_id == practitioner_id),
        )
        .where(Booking.user_id == client_id)
        # Newest first; unscheduled credits (no time yet) last.
        .order_by(ServiceSession.start_time.is_(None), ServiceSession.start_time.desc())
    ).all()
    return [
        TimelineItem(
            booking_id=b.id,
            start_time=s.start_time,
            title=s.display_title,
            status=b.status,
            attendance=outcome,
            note_id=note.id if note else None,
            note_signed=bool(note and note.is_signed),
        )
        for b, s, _service, outcome, note in rows
    ]


def _packages(practitioner_id: int, client_id: int) -> list[Order]:
    """Orders of the practitioner's packages and bundles (the credits came from them)."""
    return list(
        db.session.scalars(
            select(Order)
            .join(Service, Service.id == Order.service_id)
            .options(contains_eager(Order.service))
            .where(
                Order.user_id == client_id,
                Service.primary_practitioner_id == practitioner_id,
                Service.service_type.in_(("package", "bundle")),
            )
            .order_by(Order.created_at.desc())
        )
    )


@unit_of_work
def _record_read(practitioner_id: int, client_id: int) -> None:
    audit.record(
        AuditAction.CLIENT_RECORD_READ,
        "client",
        client_id,
        practitioner_id=practitioner_id,
        client_id=client_id,
        actor_id=practitioner_id,
    )


def read_client_file(practitioner: User, client: User) -> ClientFile:
    """Everything the practitioner keeps about one client, in one page. The read is
    audited first (the client can see who opened their record), and committed before the
    rows are read, so the page's objects stay loaded."""
    _record_read(practitioner.id, client.id)
    record = db.session.get(ClientRecord, (practitioner.id, client.id))
    about = crypto.decrypt(record.about_encrypted) if record and record.about_encrypted else ""
    return ClientFile(
        client=client,
        about=about,
        tags=_tags_of(practitioner.id, [client.id]).get(client.id, []),
        timeline=_timeline(practitioner.id, client.id),
        packages=_packages(practitioner.id, client.id),
        intake=submissions_of(practitioner.id, client.id),
    )


def parse_tags(text: str) -> list[str]:
    tags = sorted({" ".join(t.split()).lower() for t in text.split(",") if t.strip()})
    if len(tags) > MAX_TAGS:
        raise InvalidInput(gettext("Use at most %(num)d tags.", num=MAX_TAGS), field="tags")
    if any(len(t) > TAG_MAX for t in tags):
        raise InvalidInput(
            gettext("Keep each tag under %(num)d characters.", num=TAG_MAX), field="tags"
        )
    return tags


@unit_of_work
def save_client_file(practitioner: User, client: User, about: str, tags: list[str]) -> None:
    about = about.strip()
    if len(about) > ABOUT_MAX:
        raise InvalidInput(
            gettext("Keep the note under %(num)d characters.", num=ABOUT_MAX), field="about"
        )
    record = db.session.get(ClientRecord, (practitioner.id, client.id))
    if record is None:
        record = ClientRecord(practitioner_id=practitioner.id, client_id=client.id)
        db.session.add(record)
    record.about_encrypted = crypto.encrypt(about) if about else None
    record.updated_at = utcnow()
    db.session.execute(
        delete(ClientTag).where(
            ClientTag.practitioner_id == practitioner.id, ClientTag.client_id == client.id
        )
    )
    db.session.add_all(
        ClientTag(practitioner_id=practitioner.id, client_id=client.id, tag=t) for t in tags
    )
    db.session.flush()
    # Tags and the note may be health data: the append-only log keeps only their shape.
    audit.record(
        AuditAction.CLIENT_RECORD_UPDATED,
        "client",
        client.id,
        practitioner_id=practitioner.id,
        client_id=client.id,
        after={"tag_count": len(tags), "has_about": bool(about)},
    )
    log.info("client record saved: practitioner %s, client %s", practitioner.id, client.id)
