"""Reads for the home pages: the practitioner's dashboard and the client's home.

Each read is one statement (or one per relationship it loads), so a home page costs the same
few queries however many sessions, clients and orders there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from ... import booking, records
from ...database import utcnow
from ...extensions import db
from ...l10n import format_money
from ...models import (
    SEAT_HOLDING,
    Booking,
    BookingStatus,
    Order,
    OrderStatus,
    Room,
    Service,
    ServiceSession,
    SessionStatus,
    User,
    WaitlistEntry,
    WaitlistStatus,
)

UPCOMING_LIMIT = 10
# How many of each to-do the dashboard lists; the count says how many there are in all.
TODO_LIMIT = 5
LIVE_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)
# A room comes to exist when LiveKit reports someone in it; a session this far past its
# start with confirmed seats and still no room means the practitioner has not gone in.
ROOM_GRACE = timedelta(minutes=5)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


@dataclass
class Attendee:
    name: str
    status: BookingStatus
    first_time: bool


@dataclass
class AgendaItem:
    session: ServiceSession
    attendees: list[Attendee]


@dataclass
class AgendaDay:
    day: date
    items: list[AgendaItem]


@dataclass
class Todos:
    unpaid: list[Order]
    unpaid_count: int
    offers: list[WaitlistEntry]
    offers_count: int
    unopened: list[ServiceSession] = field(default_factory=list)
    # Coming bookings whose client has not answered a required intake form.
    missing_forms: list[Booking] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.unpaid_count or self.offers_count or self.unopened or self.missing_forms)


@dataclass
class Week:
    first_day: date
    last_day: date
    bookings: int
    revenue: list[str] = field(default_factory=list)


@dataclass
class Dashboard:
    agenda: list[AgendaDay]
    todos: Todos
    week: Week


def _first_sessions(practitioner_id: int, user_ids: set[int]) -> dict[int, datetime]:
    """Each client's earliest held seat with this practitioner: their first session."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(Booking.user_id, func.min(ServiceSession.start_time))
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(
            ServiceSession.practitioner_id == practitioner_id,
            ServiceSession.status != SessionStatus.CANCELED,
            Booking.user_id.in_(user_ids),
            Booking.status.in_(SEAT_HOLDING),
        )
        .group_by(Booking.user_id)
    )
    return {user_id: first for user_id, first in rows}


def agenda(practitioner: User, today: date) -> list[AgendaDay]:
    """Today's and tomorrow's sessions (in the practitioner's zone) with who is coming."""
    zone = practitioner.zone
    days = [today, today + timedelta(days=1)]
    sessions = db.session.scalars(
        select(ServiceSession)
        .where(
            ServiceSession.practitioner_id == practitioner.id,
            ServiceSession.status.in_(LIVE_STATUSES),
            ServiceSession.start_time >= local_midnight(days[0], zone),
            ServiceSession.start_time < local_midnight(days[-1] + timedelta(days=1), zone),
        )
        .options(
            selectinload(ServiceSession.service),
            selectinload(ServiceSession.bookings).selectinload(Booking.user),
        )
        .order_by(ServiceSession.start_time, ServiceSession.id)
    ).all()
    firsts = _first_sessions(practitioner.id, {b.user_id for s in sessions for b in s.attendees})
    by_day: dict[date, list[AgendaItem]] = {d: [] for d in days}
    for session in sessions:
        attendees = [
            Attendee(b.user.name, b.status, firsts.get(b.user_id) == session.start_time)
            for b in session.attendees
        ]
        by_day[session.start_time.astimezone(zone).date()].append(AgendaItem(session, attendees))
    return [AgendaDay(d, by_day[d]) for d in days]


def unopened_rooms(practitioner: User, now: datetime) -> list[ServiceSession]:
    """Their sessions under way, with confirmed seats, whose room nobody has opened."""
    seated = (
        select(Booking.id)
        .where(
            Booking.service_session_id == ServiceSession.id,
            Booking.status == BookingStatus.CONFIRMED,
        )
        .exists()
    )
    opened = select(Room.id).where(Room.service_session_id == ServiceSession.id).exists()
    return list(
        db.session.scalars(
            select(ServiceSession)
            .where(
                ServiceSession.practitioner_id == practitioner.id,
                ServiceSession.status.in_(LIVE_STATUSES),
                ServiceSession.start_time <= now - ROOM_GRACE,
                ServiceSession.end_time > now,
                seated,
                ~opened,
            )
            # Joined, not a second load: one statement whether or not any is found.
            .join(ServiceSession.service)
            .options(contains_eager(ServiceSession.service))
            .order_by(ServiceSession.start_time, ServiceSession.id)
            .limit(TODO_LIMIT)
        )
    )


def todos(practitioner: User) -> Todos:
    """Orders of theirs awaiting payment, waitlist offers their clients have not answered,
    and sessions under way whose room is still closed."""
    unpaid = (
        select(Order)
        .join(Service, Order.service_id == Service.id)
        .where(
            Service.primary_practitioner_id == practitioner.id,
            Order.status == OrderStatus.PENDING,
        )
    )
    offers = (
        select(WaitlistEntry)
        .join(ServiceSession, WaitlistEntry.service_session_id == ServiceSession.id)
        .where(
            ServiceSession.practitioner_id == practitioner.id,
            WaitlistEntry.status == WaitlistStatus.OFFERED,
        )
    )
    return Todos(
        unpaid=list(
            db.session.scalars(
                unpaid.options(selectinload(Order.user), selectinload(Order.service))
                .order_by(Order.created_at, Order.id)
                .limit(TODO_LIMIT)
            )
        ),
        unpaid_count=db.session.scalar(select(func.count()).select_from(unpaid.subquery())),
        offers=list(
            db.session.scalars(
                offers.options(
                    selectinload(WaitlistEntry.user),
                    selectinload(WaitlistEntry.service_session).selectinload(
                        ServiceSession.service
                    ),
                )
                .order_by(WaitlistEntry.offer_expires_at, WaitlistEntry.id)
                .limit(TODO_LIMIT)
            )
        ),
        offers_count=db.session.scalar(select(func.count()).select_from(offers.subquery())),
        unopened=unopened_rooms(practitioner, utcnow()),
        missing_forms=records.missing_required(practitioner.id, utcnow(), limit=TODO_LIMIT),
    )


def week(practitioner: User, today: date) -> Week:
    """This local week (Monday to Sunday): seats booked in it and money received in it."""
    first = today - timedelta(days=today.weekday())
    start, end = (
        local_midnight(first, practitioner.zone),
        local_midnight(first + timedelta(days=7), practitioner.zone),
    )
    booked = db.session.scalar(
        select(func.count(Booking.id))
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(
            ServiceSession.practitioner_id == practitioner.id,
            Booking.status.in_(SEAT_HOLDING),
            Booking.created_at >= start,
            Booking.created_at < end,
        )
    )
    revenue = db.session.execute(
        select(Order.currency, func.sum(Order.total_cents))
        .join(Service, Order.service_id == Service.id)
        .where(
            Service.primary_practitioner_id == practitioner.id,
            Order.status == OrderStatus.PAID,
            Order.paid_at >= start,
            Order.paid_at < end,
        )
        .group_by(Order.currency)
        .order_by(Order.currency)
    ).all()
    return Week(
        first,
        first + timedelta(days=6),
        booked or 0,
        [format_money(cents, currency) for currency, cents in revenue if cents],
    )


def dashboard(practitioner: User) -> Dashboard:
    today = datetime.now(practitioner.zone).date()
    return Dashboard(agenda(practitioner, today), todos(practitioner), week(practitioner, today))


def upcoming_sessions() -> list[ServiceSession]:
    """The next scheduled sessions, everyone's (staff), with who is coming."""
    return list(
        db.session.scalars(
            select(ServiceSession)
            .where(
                ServiceSession.status == SessionStatus.SCHEDULED,
                ServiceSession.start_time >= utcnow(),
            )
            .options(
                selectinload(ServiceSession.service),
                selectinload(ServiceSession.practitioner),
                selectinload(ServiceSession.bookings).selectinload(Booking.user),
            )
            .order_by(ServiceSession.start_time)
            .limit(UPCOMING_LIMIT)
        )
    )


@dataclass
class UpcomingSeat:
    booking: Booking
    # A 1-on-1 or credit session still before its cut-off: the client may move it online.
    can_reschedule: bool


@dataclass
class ClientHome:
    upcoming: list[UpcomingSeat]
    credits: list[booking.CreditGroup]
    unpaid: list[Order]
    offers: list[WaitlistEntry]
    practitioners: list[User]


def _upcoming_seats(client: User, now: datetime) -> list[UpcomingSeat]:
    seats = db.session.scalars(
        select(Booking)
        .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
        .where(
            Booking.user_id == client.id,
            Booking.status != BookingStatus.CANCELED,
            ServiceSession.start_time >= now,
            # A session run early is over even though its planned start is still ahead.
            ServiceSession.status.in_(LIVE_STATUSES),
        )
        .options(
            selectinload(Booking.service),
            selectinload(Booking.service_session).selectinload(ServiceSession.practitioner),
        )
        .order_by(ServiceSession.start_time)
        .limit(UPCOMING_LIMIT)
    )
    return [
        UpcomingSeat(
            b,
            b.service_session.status == SessionStatus.SCHEDULED
            and booking.can_reschedule(b)
            and not booking.cutoff_passed(b, now),
        )
        for b in seats
    ]


def client_home(client: User) -> ClientHome:
    """What a client has coming, still to use, still to pay and still to answer."""
    now = utcnow()
    return ClientHome(
        upcoming=_upcoming_seats(client, now),
        credits=[g for g in booking.credit_groups(client, now) if not g.expired],
        unpaid=list(
            db.session.scalars(
                select(Order)
                .where(Order.user_id == client.id, Order.status == OrderStatus.PENDING)
                .options(selectinload(Order.service))
                .order_by(Order.created_at, Order.id)
            )
        ),
        offers=list(
            db.session.scalars(
                select(WaitlistEntry)
                .where(
                    WaitlistEntry.user_id == client.id,
                    WaitlistEntry.status == WaitlistStatus.OFFERED,
                )
                .options(
                    selectinload(WaitlistEntry.service_session).selectinload(ServiceSession.service)
                )
                .order_by(WaitlistEntry.offer_expires_at, WaitlistEntry.id)
            )
        ),
        practitioners=list(
            db.session.scalars(
                select(User)
                .join(ServiceSession, ServiceSession.practitioner_id == User.id)
                .join(Booking, Booking.service_session_id == ServiceSession.id)
                .where(Booking.user_id == client.id, Booking.status != BookingStatus.CANCELED)
                .distinct()
                .order_by(User.name, User.id)
            )
        ),
    )
