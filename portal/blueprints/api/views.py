"""JSON API v1. Views load, check access, call the booking domain and shape the answer."""

from __future__ import annotations

from ... import booking
from ...booking import reports
from ...booking.attendance import SessionAttendance
from ...database import kept_loaded
from ...extensions import db
from ...models import (
    SEAT_HOLDING,
    Booking,
    Order,
    Service,
    ServiceSession,
    ServiceType,
    User,
    Visibility,
)
from . import api
from .errors import forbidden, not_found
from .openapi import build_spec
from .queries import (
    booking_with_session,
    calendar_sessions,
    catalog,
    course_session_counts,
    event,
    has_booking_in,
    order_with_bookings,
    upcoming_sessions,
)
from .schemas import (
    MAX_ID,
    AttendanceBooking,
    Attendee,
    BookingOut,
    BookingResponse,
    Calendar,
    CalendarQuery,
    CancelRequest,
    CancelResponse,
    ClientReportRow,
    Component,
    CourseCompletionOut,
    CourseRef,
    Enrollee,
    Event,
    LateCancel,
    MarkPaidRequest,
    NoShowQuery,
    NoShowReportOut,
    OrderOut,
    OrderRequest,
    OrderResponse,
    Participant,
    ReportCounts,
    ScheduleRequest,
    ServiceList,
    ServiceOut,
    ServiceRef,
    ServiceReportRow,
    ServicesQuery,
    SessionAttendanceOut,
    UpcomingSession,
    WeekReportRow,
)

ID = f"int(min=1, max={MAX_ID})"


# Access rules shared by the endpoints


def manages_session(user: User, session: ServiceSession) -> bool:
    return user.is_staff or session.practitioner_id == user.id


def hidden_from(user: User, practitioner_id: int) -> bool:
    """Another practitioner's sessions and courses do not exist for a practitioner.

    The attendance pages answer them 404; the API must not tell them more.
    """
    return user.is_practitioner and practitioner_id != user.id


def holds_seat(user: User, session: ServiceSession) -> bool:
    return any(b.user_id == user.id and b.status in SEAT_HOLDING for b in session.bookings)


def visible_booking(user: User, booking_id: int) -> Booking:
    """The booking if the user is its client, its session's practitioner or staff; else 404."""
    found = booking_with_session(booking_id)
    if found is None or not (
        found.user_id == user.id or manages_session(user, found.service_session)
    ):
        raise not_found("booking")
    return found


def visible_course(user: User, course_id: int) -> Service:
    """A course its practitioner or staff may report on.

    Unknown ids, other services, inactive courses (the catalog shows only active
    services) and other practitioners' courses are 404; a client gets 403.
    """
    course = db.session.get(Service, course_id)
    if course is None or course.service_type != ServiceType.COURSE:
        raise not_found("course")
    if user.is_staff or course.primary_practitioner_id == user.id:
        return course
    if not course.is_active or hidden_from(user, course.primary_practitioner_id):
        raise not_found("course")
    raise forbidden("Only the course's practitioner and staff see its completion.")


# Shaping answers


def event_out(session: ServiceSession, viewer: User) -> Event:
    seats = [b for b in session.bookings if b.status in SEAT_HOLDING]
    if not manages_session(viewer, session):
        seats_shown = [b for b in seats if b.user_id == viewer.id]
    else:
        seats_shown = seats
    return Event(
        service_session_id=session.id,
        service=ServiceRef(
            id=session.service.id,
            name=session.service.name,
            service_type=session.service.service_type,
        ),
        session_type=session.session_type,
        sequence_number=session.sequence_number,
        title=session.display_title,
        start_time=session.start_time,
        end_time=session.end_time,
        timezone=session.timezone,
        status=session.status,
        practitioner_id=session.practitioner_id,
        max_participants=session.max_participants,
        current_participants=session.current_participants,
        attendee_count=len(seats),
        attendees=[
            Attendee(
                booking_id=b.id,
                user_id=b.user_id,
                name=b.user.name,
                status=b.status,
                livekit_identity=b.user.livekit_identity,
            )
            for b in seats_shown
        ],
        livekit_room=session.livekit_room_name,
    )


def booking_out(item: Booking) -> BookingOut:
    return BookingOut(
        id=item.id,
        status=item.status,
        service_id=item.service_id,
        service_session_id=item.service_session_id,
        order_id=item.order_id,
        start_time=item.get_start_time(),
        end_time=item.get_end_time(),
    )


def order_response(order_id: int) -> OrderResponse:
    return order_out(order_with_bookings(order_id))


def order_out(order: Order) -> OrderResponse:
    return OrderResponse(
        order=OrderOut(
            id=order.id,
            status=order.status,
            service_id=order.service_id,
            total_cents=order.total_cents,
            currency=order.currency,
            hold_expires_at=order.hold_expires_at,
            paid_at=order.paid_at,
        ),
        bookings=[booking_out(b) for b in order.bookings],
    )


def service_out(service: Service, sessions: list[ServiceSession]) -> ServiceOut:
    return ServiceOut(
        id=service.id,
        name=service.name,
        description=service.description,
        service_type=service.service_type,
        practitioner_id=service.primary_practitioner_id,
        price_cents=service.price_cents,
        currency=service.currency,
        duration_minutes=service.duration_minutes,
        max_participants=service.max_participants,
        cancellation_cutoff_hours=service.cancellation_cutoff_hours,
        validity_days=service.validity_days,
        is_active=service.is_active,
        components=[
            Component(service_id=c.included_service_id, quantity=c.quantity)
            for c in service.components
        ],
        sessions=[
            UpcomingSession(
                service_session_id=s.id,
                sequence_number=s.sequence_number,
                start_time=s.start_time,
                end_time=s.end_time,
                seats_left=s.seats_left,
            )
            for s in sessions
        ],
    )


def percent(rate: float | None, scale: int = 1) -> float | None:
    return None if rate is None else round(rate * scale, 1)


def attendance_out(attendance: SessionAttendance, own: int | None) -> SessionAttendanceOut:
    """The session's attendance; with `own` (a client's id) only that client's entries."""

    def mine(user_id: int | None) -> bool:
        return own is None or user_id == own

    session = attendance.session
    return SessionAttendanceOut(
        session_id=session.id,
        status=session.status,
        service_id=session.service_id,
        practitioner_id=session.practitioner_id,
        start_time=session.start_time,
        end_time=session.end_time,
        actual_start_time=session.actual_start_time,
        actual_end_time=session.actual_end_time,
        booked=sorted(u for u in attendance.booked_user_ids if mine(u)),
        attended=sorted(u for u in attendance.attended_user_ids if mine(u)),
        no_shows=sorted(u for u in attendance.no_show_user_ids if mine(u)),
        bookings=[
            AttendanceBooking(
                booking_id=c.booking.id,
                user_id=c.booking.user_id,
                name=c.user.name,
                outcome=c.kind,
                overridden=bool(c.outcome and c.outcome.is_overridden),
                total_seconds=int(c.total_seconds),
                first_joined_at=c.first_joined_at,
                last_left_at=c.last_left_at,
                late_join=c.late_join,
                early_leave=c.early_leave,
            )
            for c in attendance.clients
            if mine(c.booking.user_id)
        ],
        late_cancels=[
            LateCancel(
                booking_id=b.id, user_id=b.user_id, name=b.user.name, canceled_at=b.canceled_at
            )
            for b in attendance.late_cancels
            if mine(b.user_id)
        ],
        participants=[
            Participant(
                user_id=p.user_id,
                identity=p.identity,
                participant_sid=p.participant_sid,
                display_name=p.display_name,
                participant_kind=p.participant_kind,
                joined_at=p.joined_at,
                left_at=p.left_at,
                duration_seconds=p.duration_seconds,
            )
            for p in attendance.participants
            if mine(p.user_id)
        ],
    )


def counts_out(row: reports.ReportRow) -> dict:
    return {
        "booked": row.booked,
        "attended": row.attended,
        "no_shows": row.no_shows,
        "no_show_rate": percent(row.rate, 100),
        "late_cancels": row.late_cancels,
    }


def report_out(report: reports.NoShowReport) -> NoShowReportOut:
    filters = report.filters
    return NoShowReportOut(
        start=filters.start,
        end=filters.end,
        practitioner_id=filters.practitioner_id,
        service_id=filters.service_id,
        repeat_no_show_threshold=reports.REPEAT_NO_SHOWS,
        total=ReportCounts(**counts_out(report.total)),
        by_service=[
            ServiceReportRow(
                service_id=r.key, name=r.name, practitioner_name=r.detail, **counts_out(r)
            )
            for r in report.by_service
        ],
        by_client=[
            ClientReportRow(
                user_id=r.key,
                name=r.name,
                email=r.detail,
                repeat_no_show=r.repeat_no_show,
                **counts_out(r),
            )
            for r in report.by_client
        ],
        weekly=[WeekReportRow(week_start=r.key, **counts_out(r)) for r in report.weekly],
    )


# Endpoints


@api.route("/openapi.json", "GET", response=None, public=True)
def openapi_spec():
    """This document: the OpenAPI 3.1 description of API v1."""
    return build_spec(api.operations, title="Estuary Portal API", version="1")


@api.route("/calendar/", "GET", query=CalendarQuery, response=Calendar, errors=(403,))
def calendar(user: User, query: CalendarQuery):
    """Sessions overlapping a window, with their attendees.

    Practitioners get their own sessions, staff everyone's (filter with
    practitioner_id), clients the sessions they hold a booking in. Unscheduled
    (draft) and canceled sessions are not events.
    """
    if (
        user.is_practitioner
        and query.practitioner_id is not None
        and query.practitioner_id != user.id
    ):
        raise forbidden("Practitioners see their own calendar only.")
    sessions = calendar_sessions(user, query.start, query.end, query.practitioner_id)
    return Calendar(events=[event_out(s, user) for s in sessions])


@api.route("/services/", "GET", query=ServicesQuery, response=ServiceList)
def services(user: User, query: ServicesQuery):
    """A practitioner's catalog (default: the calling practitioner's; else every active service)."""
    found = catalog(user, query.practitioner_id)
    sessions = upcoming_sessions(found)
    return ServiceList(services=[service_out(s, sessions.get(s.id, [])) for s in found])


@api.route(f"/sessions/<{ID}:session_id>", "GET", response=Event)
def session_detail(user: User, session_id: int):
    """One event, shaped as in the calendar.

    Visible to staff, the session's practitioner, anyone holding a seat in it, and
    (public sessions) any signed-in user; others get 404.
    """
    found = event(session_id)
    if found is None or found.start_time is None:
        raise not_found("session")
    public = found.visibility == Visibility.PUBLIC
    if not (public or manages_session(user, found) or holds_seat(user, found)):
        raise not_found("session")
    return event_out(found, user)


@api.route(
    "/orders", "POST", body=OrderRequest, response=OrderResponse, status=201, errors=(403, 409)
)
def create_order(user: User, body: OrderRequest):
    """Buy a service for the calling client: any of the five types.

    Individual: give start_time. Workshop: give service_session_id. Course,
    package, bundle: the service alone. Paid services stay pending (their seats
    held until hold_expires_at) until the practitioner or staff marks them paid.
    """
    if not user.is_client:
        raise forbidden("Only clients buy services.")
    with kept_loaded():
        order = booking.purchase_by_ids(
            user,
            body.service_id,
            service_session_id=body.service_session_id,
            start_time=body.start_time,
        )
        return order_out(order)


@api.route(
    f"/orders/<{ID}:order_id>/mark-paid",
    "POST",
    body=MarkPaidRequest,
    body_required=False,
    response=OrderResponse,
    errors=(403, 409),
)
def mark_order_paid(user: User, order_id: int, body: MarkPaidRequest):
    """Record that an order was paid; its bookings become confirmed.

    For the service's practitioner and staff. A buyer may see their own order but not mark it paid.
    """
    order = order_with_bookings(order_id)
    if order is None:
        raise not_found("order")
    if not (user.is_staff or order.service.primary_practitioner_id == user.id):
        if order.user_id == user.id:
            raise forbidden("Only the practitioner or staff can record a payment.")
        raise not_found("order")
    booking.confirm_payment(order, reference=body.reference)
    return order_response(order_id)


@api.route(
    f"/bookings/<{ID}:booking_id>/schedule",
    "POST",
    body=ScheduleRequest,
    response=BookingResponse,
    errors=(403, 409),
)
def schedule_booking(user: User, booking_id: int, body: ScheduleRequest):
    """Give a package or bundle credit (a draft booking) its time.

    For the booking's client and staff.
    """
    found = visible_booking(user, booking_id)
    if not (found.user_id == user.id or user.is_staff):
        raise forbidden("Only the client or staff can schedule this credit.")
    booking.schedule_credit(found, body.start_time)
    return BookingResponse(booking=booking_out(booking_with_session(booking_id)))


@api.route(
    f"/bookings/<{ID}:booking_id>/cancel",
    "POST",
    body=CancelRequest,
    body_required=False,
    response=CancelResponse,
    errors=(409,),
)
def cancel_booking(user: User, booking_id: int, body: CancelRequest):
    """Cancel a booking and free its seat.

    The client may cancel up to the service's cut-off; the practitioner and staff at
    any time. Past the cut-off, a cancel the client asked for is their late cancel and
    forfeits a package/bundle credit; any other canceled package/bundle booking returns it.
    """
    found = visible_booking(user, booking_id)
    credit = booking.cancel_booking(
        found, user, reason=body.reason, client_requested=body.client_requested
    )
    return CancelResponse(
        booking=booking_out(booking_with_session(booking_id)),
        credit=booking_out(booking_with_session(credit.id)) if credit else None,
    )


@api.route(
    f"/sessions/<{ID}:session_id>/attendance", "GET", response=SessionAttendanceOut, errors=(403,)
)
def session_attendance(user: User, session_id: int):
    """Who was booked, who attended, the no-shows and the room's participants.

    The session's practitioner and staff see everyone. A client with a booking in
    the session (any status) sees only their own entries: their user id in the
    lists, their booking, their late cancel, their room sids; never anyone else's.
    Another client gets 403 for a public session; anyone else 404. Until the session
    is completed nobody is a no-show (outcomes are pending).
    """
    found = db.session.get(ServiceSession, session_id)
    if found is None or found.start_time is None:
        raise not_found("session")
    if manages_session(user, found):
        own = None
    elif has_booking_in(user, found):
        own = user.id
    elif found.visibility == Visibility.PUBLIC and not hidden_from(user, found.practitioner_id):
        raise forbidden("Only the session's practitioner, staff and its clients see attendance.")
    else:
        raise not_found("session")
    return attendance_out(booking.session_attendance(found), own)


@api.route("/reports/no-shows", "GET", query=NoShowQuery, response=NoShowReportOut, errors=(403,))
def noshow_report(user: User, query: NoShowQuery):
    """The no-show report: per service, per client and per week for sessions in a range.

    Counts confirmed seats of completed sessions (booked = attended + no_shows) and,
    apart, late cancels (never no-shows). Clients flagged repeat_no_show have at least
    repeat_no_show_threshold no-shows. Rows are sorted by no-shows, most first, then
    name; weeks start on Monday (UTC) and weeks without bookings are included.
    Staff see every practitioner (filter with practitioner_id); practitioners only
    their own sessions (another practitioner_id is 403); clients get 403.
    """
    if user.is_client:
        raise forbidden("Only practitioners and staff see reports.")
    practitioner_id = query.practitioner_id
    if user.is_practitioner:
        if practitioner_id not in (None, user.id):
            raise forbidden("Practitioners see their own report only.")
        practitioner_id = user.id
    filters = reports.ReportFilters(
        start=query.start,
        end=query.end,
        practitioner_id=practitioner_id,
        service_id=query.service_id,
    )
    return report_out(reports.noshow_report(filters))


@api.route(
    f"/courses/<{ID}:service_id>/completion", "GET", response=CourseCompletionOut, errors=(403,)
)
def course_completion(user: User, service_id: int):
    """Each enrollee of a course: completed sessions attended, of those completed, as a rate.

    rate = attended / completed x 100 (null before any session is completed). An
    enrollee holds a confirmed seat in a session of the course. For the course's
    practitioner and staff; clients get 403 (404 for an inactive course, an unknown
    id or a service that is not a course), other practitioners 404.
    """
    course = visible_course(user, service_id)
    sessions, completed = course_session_counts(course)
    return CourseCompletionOut(
        course=CourseRef(
            id=course.id, name=course.name, practitioner_id=course.primary_practitioner_id
        ),
        sessions=sessions,
        completed_sessions=completed,
        enrollees=[
            Enrollee(
                user_id=r.user_id,
                name=r.name,
                email=r.email,
                attended=r.attended,
                completed=r.completed,
                rate=percent(r.rate),
            )
            for r in reports.course_completion(course)
        ],
    )
