"""JSON API v1. Views load, check access, call the booking domain and shape the answer."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext

from ... import booking, records
from ...database import kept_loaded, utcnow
from ...extensions import db
from ...models import ClassPass, Order, Service, ServiceType, User
from ...web.access import (
    SessionUse,
    get_booking,
    get_course,
    get_fee,
    get_order,
    get_own,
    get_session,
    manages_session,
)
from . import api
from .errors import ApiError, forbidden
from .openapi import build_spec
from .queries import (
    EVENT_LOADS,
    ORDER_LOADS,
    booking_with_session,
    calendar_sessions,
    course_session_counts,
    listed_fees,
    listed_services,
    offered_pass,
    offered_service,
    order_with_bookings,
    own_passes,
    pass_of_order,
    upcoming_sessions,
)
from .schemas import (
    MAX_ID,
    BookingResponse,
    Calendar,
    CalendarQuery,
    CancelRequest,
    CancelResponse,
    CourseCompletionOut,
    Event,
    FeeList,
    FeeOut,
    FeesQuery,
    MarkPaidRequest,
    NoShowQuery,
    NoShowReportOut,
    OrderRequest,
    OrderResponse,
    PassList,
    PassPurchaseRequest,
    PassPurchaseResponse,
    PassSeatRequest,
    ScheduleRequest,
    ServiceList,
    ServicesQuery,
    SessionAttendanceOut,
    Slot,
    SlotList,
    SlotsQuery,
    WaiveFeeRequest,
)
from .serializers import (
    attendance_out,
    booking_out,
    completion_out,
    event_out,
    fee_out,
    fees_out,
    order_out,
    pass_out,
    report_out,
    service_out,
)

ID = f"int(min=1, max={MAX_ID})"


def _may_buy(user: User, service_id: int) -> booking.Unless:
    """Only clients buy. A required intake form (a consent among them) is answered on the
    service's page, in the same transaction as the booking; the API has no questions to
    ask, so it refuses: the refusal is returned for the purchase to make with its first
    statement (records.owes_answers), or asked at once by a path that cannot."""
    if not user.is_client:
        raise forbidden(gettext("Only clients buy services."))
    return records.owes_answers(service_id, user.id)


def order_response(order_id: int) -> OrderResponse:
    return order_out(order_with_bookings(order_id))


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
        raise forbidden(gettext("Practitioners see their own calendar only."))
    sessions = calendar_sessions(user, query.start, query.end, query.practitioner_id)
    return Calendar(events=[event_out(s, user) for s in sessions])


@api.route("/services/", "GET", query=ServicesQuery, response=ServiceList)
def services(user: User, query: ServicesQuery):
    """A practitioner's services (default: the caller's; else every active service)."""
    found = listed_services(user, query.practitioner_id)
    sessions = upcoming_sessions(found)
    seats = booking.bookable_seats([s for listed in sessions.values() for s in listed], utcnow())
    return ServiceList(
        services=[service_out(s, sessions.get(s.id, []), seats, user) for s in found]
    )


@api.route(
    f"/services/<{ID}:service_id>/slots",
    "GET",
    query=SlotsQuery,
    response=SlotList,
    errors=(409,),
    public=True,
)
def service_slots(service_id: int, query: SlotsQuery):
    """The free start times of an active 1-on-1 service within a window.

    Public, like the service's page: no token needed. Other service types have no slots (409).
    """
    service = offered_service(service_id)
    if service is None:
        raise ApiError(404, gettext("No such service."))
    if service.service_type != ServiceType.INDIVIDUAL:
        raise ApiError(409, gettext("Only 1-on-1 services are booked by time slot."))
    length = timedelta(minutes=service.duration_minutes)
    starts = booking.available_slots(
        service.primary_practitioner, length, query.start, query.end, service=service
    )
    return SlotList(
        service_id=service.id,
        duration_minutes=service.duration_minutes,
        slots=[Slot(start_time=start, end_time=start + length) for start in starts],
    )


@api.route(f"/sessions/<{ID}:session_id>", "GET", response=Event)
def session_detail(user: User, session_id: int):
    """One event, shaped as in the calendar.

    Visible to staff, the session's practitioner, anyone holding a seat in it, and
    (public sessions) any signed-in user; others get 404.
    """
    found = get_session(session_id, user, SessionUse.VIEW, loads=EVENT_LOADS)
    return event_out(found, user)


@api.route(
    "/orders",
    "POST",
    body=OrderRequest,
    response=OrderResponse,
    status=201,
    errors=(403, 409),
    idempotent=True,
)
def create_order(user: User, body: OrderRequest, idempotency_key: str | None):
    """Buy a service for the calling client: any of the five types.

    Individual: give start_time. Workshop: give service_session_id. Course,
    package, bundle: the service alone. Paid services stay pending (their seats
    held until hold_expires_at) until the practitioner or staff marks them paid.
    Send an Idempotency-Key to make a retry safe: it never buys twice.
    """
    owes = _may_buy(user, body.service_id)

    def purchase():
        return booking.purchase_by_ids(
            user,
            body.service_id,
            service_session_id=body.service_session_id,
            start_time=body.start_time,
            unless=owes,
        )

    with kept_loaded():
        if idempotency_key is None:
            return order_out(purchase())
        service = db.session.get(Service, body.service_id)
        if service is not None:
            booking.check_live_slot(service, body.start_time)
        record, _repeat = booking.purchase_once(
            user,
            idempotency_key,
            booking.fingerprint("api.create_order", body.model_dump_json()),
            purchase,
            answer=lambda order: order_out(order).model_dump_json(),
        )
        return record.answer


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
    order = get_order(order_id, user, collect=True, loads=ORDER_LOADS, refresh=True)
    booking.confirm_payment(order, reference=body.reference, actor=user)
    return order_response(order_id)


@api.route("/fees/", "GET", query=FeesQuery, response=FeeList, errors=(403,))
def list_fees(user: User, query: FeesQuery):
    """Cancellation and no-show fees, newest first, with what is still due.

    Clients get the fees of their own orders (a `due` fee is one their card did not pay:
    they owe it, and pay it on the order's page). Practitioners get their services' fees
    (another practitioner_id is 403); staff everyone's (filter with practitioner_id).
    """
    if user.is_practitioner and query.practitioner_id not in (None, user.id):
        raise forbidden(gettext("Practitioners see their own fees only."))
    return fees_out(
        listed_fees(
            user,
            status=query.status,
            order_id=query.order_id,
            practitioner_id=query.practitioner_id,
        )
    )


@api.route(
    f"/fees/<{ID}:fee_id>/waive",
    "POST",
    body=WaiveFeeRequest,
    body_required=False,
    response=FeeOut,
    errors=(403, 409),
)
def waive_fee(user: User, fee_id: int, body: WaiveFeeRequest):
    """Let a fee go, before it is charged or once it is due (409 once charged or waived).

    For the service's practitioner and staff; the client who owes it gets 403.
    """
    order, fee = get_fee(fee_id, user, collect=True)
    fee = booking.waive_fee(fee, user, reason=body.reason)
    return fee_out(fee, order)


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
    found = get_booking(booking_id, user)
    if not (found.user_id == user.id or user.is_staff):
        raise forbidden(gettext("Only the client or staff can schedule this credit."))
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
    found = get_booking(booking_id, user)
    credit = booking.cancel_booking(
        found, user, note=body.reason, client_requested=body.client_requested
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
    found = get_session(session_id, user, SessionUse.ATTENDANCE)
    own = None if manages_session(user, found) else user.id
    booking.apply_room_events([found.id])
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
        raise forbidden(gettext("Only practitioners and staff see booking."))
    practitioner_id = query.practitioner_id
    if user.is_practitioner:
        if practitioner_id not in (None, user.id):
            raise forbidden(gettext("Practitioners see their own report only."))
        practitioner_id = user.id
    filters = booking.ReportFilters(
        start=query.start,
        end=query.end,
        practitioner_id=practitioner_id,
        service_id=query.service_id,
    )
    booking.apply_room_events()
    return report_out(booking.noshow_report(filters))


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
    course = get_course(service_id, user)
    booking.apply_room_events()
    sessions, completed = course_session_counts(course)
    return completion_out(course, sessions, completed, booking.course_completion(course))


# Class passes


@api.route("/passes", "GET", response=PassList, errors=(403,))
def my_passes(user: User):
    """The calling client's class passes, newest first.

    Each with its credits left, its expiry, whether it can pay for a seat now, and what it
    may be spent on: the classes and tag it was sold with, and its limits per day and week.
    """
    if not user.is_client:
        raise forbidden(gettext("Only clients hold class passes."))
    now = utcnow()
    return PassList(passes=[pass_out(held, now) for held in own_passes(user)])


@api.route(
    "/passes",
    "POST",
    body=PassPurchaseRequest,
    response=PassPurchaseResponse,
    status=201,
    errors=(403, 404, 409),
    idempotent=True,
)
def buy_pass(user: User, body: PassPurchaseRequest, idempotency_key: str | None):
    """Buy a class pass for the calling client.

    A paid pass stays pending, unusable, until its order is paid (marked paid, or through
    the order's page). Send an Idempotency-Key to make a retry safe: it never buys twice.
    """
    owes = _may_buy(user, body.service_id)
    if owes.holds():
        raise owes.refusal()
    service = offered_pass(body.service_id)
    if service is None:
        raise ApiError(404, gettext("No such class pass."))

    def answer(order: Order) -> PassPurchaseResponse:
        return PassPurchaseResponse(
            order=order_out(order).order, class_pass=pass_out(pass_of_order(order.id), utcnow())
        )

    with kept_loaded():
        if idempotency_key is None:
            return answer(booking.buy_class_pass(user, service))
        record, _repeat = booking.purchase_once(
            user,
            idempotency_key,
            booking.fingerprint("api.buy_pass", body.model_dump_json()),
            lambda: booking.buy_class_pass(user, service),
            answer=lambda order: answer(order).model_dump_json(),
        )
        return record.answer


@api.route(
    f"/passes/<{ID}:pass_id>/book",
    "POST",
    body=PassSeatRequest,
    response=BookingResponse,
    status=201,
    errors=(403, 409),
)
def book_with_pass(user: User, pass_id: int, body: PassSeatRequest):
    """Take a seat in a group session with one credit of the caller's class pass.

    The seat rules of a seat bought with money hold (a full session is 409 session_full).
    A pass that cannot pay for it is 409 with its reason's code: pass_not_eligible (the class
    is not one it names), credit_expired, pass_used_up (no credits left), pass_limit_reached
    (its limit per day or week); not_bookable for the rest (unpaid pass, a session past).
    """
    if not user.is_client:
        raise forbidden(gettext("Only clients hold class passes."))
    held = get_own(ClassPass, pass_id, user, message=gettext("No such pass."))
    session = get_session(body.service_session_id, user, SessionUse.VIEW)
    seat = booking.book_with_pass(user, held, session)
    return BookingResponse(booking=booking_out(booking_with_session(seat.id)))
