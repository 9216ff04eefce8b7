"""Shaping the API's answers: domain objects and report rows into the response schemas."""

from __future__ import annotations

from datetime import datetime

from ... import booking
from ...booking import SessionAttendance
from ...models import (
    SEAT_HOLDING,
    Booking,
    ClassPass,
    Fee,
    FeeStatus,
    Order,
    Service,
    ServiceSession,
    User,
)
from ...web.access import manages_session, sees_seat_counts
from .schemas import (
    AttendanceBooking,
    Attendee,
    BookingOut,
    ClientReportRow,
    Component,
    CourseCompletionOut,
    CourseRef,
    Enrollee,
    Event,
    FeeList,
    FeeOut,
    LateCancel,
    NoShowReportOut,
    OrderOut,
    OrderResponse,
    Participant,
    PassOut,
    ReportCounts,
    ServiceOut,
    ServiceRef,
    ServiceReportRow,
    SessionAttendanceOut,
    UpcomingSession,
    WeekReportRow,
)


def event_out(session: ServiceSession, viewer: User) -> Event:
    seats = [b for b in session.bookings if b.status in SEAT_HOLDING]
    manages = manages_session(viewer, session)
    seats_shown = seats if manages else [b for b in seats if b.user_id == viewer.id]
    counts = manages or sees_seat_counts(viewer, session.service)
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
        current_participants=session.current_participants if counts else None,
        attendee_count=len(seats) if counts else None,
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


def booking_out(item: Booking | booking.SoldSeat) -> BookingOut:
    return BookingOut(
        id=item.id,
        status=item.status,
        service_id=item.service_id,
        service_session_id=item.service_session_id,
        order_id=item.order_id,
        start_time=item.get_start_time(),
        end_time=item.get_end_time(),
    )


def fee_out(fee: Fee, order: Order) -> FeeOut:
    return FeeOut(
        id=fee.id,
        order_id=fee.order_id,
        booking_id=fee.booking_id,
        service_id=order.service_id,
        kind=fee.kind,
        status=fee.status,
        amount_cents=fee.amount_cents,
        currency=fee.currency,
        failure=fee.failure if fee.status == FeeStatus.DUE else "",
        waive_reason=fee.waive_reason,
        created_at=fee.created_at,
        settled_at=fee.settled_at,
    )


def fees_out(rows: list[tuple[Fee, Order]]) -> FeeList:
    due: dict[str, int] = {}
    for fee, _order in rows:
        if fee.status == FeeStatus.DUE:
            due[fee.currency] = due.get(fee.currency, 0) + fee.amount_cents
    return FeeList(fees=[fee_out(fee, order) for fee, order in rows], due_cents=due)


def order_out(order: Order | booking.Sale) -> OrderResponse:
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


def pass_out(held: ClassPass, now: datetime) -> PassOut:
    return PassOut(
        id=held.id,
        service_id=held.service_id,
        name=held.service.name,
        practitioner_id=held.service.primary_practitioner_id,
        order_id=held.order_id,
        order_status=held.order.status,
        credits=held.credits,
        credits_used=held.credits_used,
        credits_left=held.credits_left,
        unlimited=held.unlimited,
        expires_at=held.expires_at,
        usable=booking.is_usable(held, now),
        eligible_services=[
            ServiceRef(id=s.id, name=s.name, service_type=s.service_type)
            for s in held.eligible_services
        ],
        eligible_tag=held.eligible_tag,
        per_day=held.per_day,
        per_week=held.per_week,
    )


def service_out(
    service: Service, sessions: list[ServiceSession], seats: dict[int, int], viewer: User
) -> ServiceOut:
    """`seats`: booking.bookable_seats of the sessions (a lapsed hold's seat is free)."""
    counts = sees_seat_counts(viewer, service)
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
                seats_left=seats[s.id] if counts else None,
                available=seats[s.id] > 0,
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


def counts_out(row: booking.ReportRow) -> dict:
    return {
        "booked": row.booked,
        "attended": row.attended,
        "no_shows": row.no_shows,
        "no_show_rate": percent(row.rate, 100),
        "late_cancels": row.late_cancels,
    }


def report_out(report: booking.NoShowReport) -> NoShowReportOut:
    filters = report.filters
    return NoShowReportOut(
        start=filters.start,
        end=filters.end,
        practitioner_id=filters.practitioner_id,
        service_id=filters.service_id,
        repeat_no_show_threshold=booking.REPEAT_NO_SHOWS,
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


def completion_out(
    course: Service, sessions: int, completed: int, rows: list[booking.CompletionRow]
) -> CourseCompletionOut:
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
            for r in rows
        ],
    )
