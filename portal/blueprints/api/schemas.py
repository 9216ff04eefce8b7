"""The API's request and response models. The same classes parse requests, shape
responses and generate the OpenAPI document, so the three cannot drift apart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from ...booking import MAX_RANGE
from ...database import MAX_ID
from ...models import (
    BookingStatus,
    FeeKind,
    FeeStatus,
    OrderStatus,
    ServiceType,
    SessionStatus,
    SessionType,
)

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_CALENDAR_WINDOW = timedelta(days=366)


def _utc_in_range(value: datetime) -> datetime:
    try:
        value = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("Time is out of range.") from exc
    if not EARLIEST <= value < LATEST:
        raise ValueError("Time must fall between the years 2000 and 2199.")
    return value


def _storable(value: str) -> str:
    # Valid JSON escapes, but no database stores them as text (PostgreSQL refuses NUL).
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("Text may not contain lone surrogates.") from None
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# An amount as every amount column keeps it (portal/money.py).
MinorUnits = Annotated[
    int,
    Field(
        description="In the currency's minor unit (ISO 4217): 1200 is ¥1,200, 1250 is "
        "12.50 €, 12345 is 12.345 KWD."
    ),
]
Text = Annotated[str, AfterValidator(_storable)]
# ISO 8601 with an explicit offset in; UTC with "+00:00" out.
Instant = Annotated[
    AwareDatetime,
    AfterValidator(_utc_in_range),
    PlainSerializer(lambda value: value.astimezone(UTC).isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Requests


def bounded_end(end: datetime, info: ValidationInfo, longest: timedelta, noun: str) -> datetime:
    """`end` after the model's `start`, and no further from it than `longest`."""
    start = info.data.get("start")
    if start is not None and end <= start:
        raise ValueError("end must be after start.")
    if start is not None and end - start > longest:
        raise ValueError(f"The {noun} may span at most {longest.days} days.")
    return end


class CalendarQuery(RequestModel):
    start: Instant = Field(description="Window start, ISO 8601 with offset.")
    end: Instant = Field(description="Window end (exclusive), at most 366 days after start.")
    practitioner_id: Id | None = Field(None, description="Staff only: one practitioner's events.")

    @field_validator("end")
    @classmethod
    def _window(cls, end: datetime, info: ValidationInfo) -> datetime:
        return bounded_end(end, info, MAX_CALENDAR_WINDOW, "window")


class NoShowQuery(RequestModel):
    start: Instant = Field(description="Sessions starting at or after this instant.")
    end: Instant = Field(description="Sessions starting before this instant; at most 731 days on.")
    practitioner_id: Id | None = Field(
        None, description="Staff: one practitioner's sessions. Practitioners: only their own id."
    )
    service_id: Id | None = Field(None, description="One service's sessions.")

    @field_validator("end")
    @classmethod
    def _window(cls, end: datetime, info: ValidationInfo) -> datetime:
        return bounded_end(end, info, MAX_RANGE, "range")


MAX_SLOTS_WINDOW = timedelta(days=62)


class SlotsQuery(RequestModel):
    start: Instant = Field(description="Window start, ISO 8601 with offset.")
    end: Instant = Field(description="Window end (exclusive), at most 62 days after start.")

    @field_validator("end")
    @classmethod
    def _window(cls, end: datetime, info: ValidationInfo) -> datetime:
        return bounded_end(end, info, MAX_SLOTS_WINDOW, "window")


class ServicesQuery(RequestModel):
    practitioner_id: Id | None = Field(None, description="One practitioner's services.")


class OrderRequest(RequestModel):
    service_id: Id
    start_time: Instant | None = Field(None, description="Individual sessions: the chosen start.")
    service_session_id: Id | None = Field(None, description="Workshops: the session to join.")


class PassPurchaseRequest(RequestModel):
    service_id: Id = Field(description="The class pass to buy (a service of type class_pass).")


class PassSeatRequest(RequestModel):
    service_session_id: Id = Field(description="The group session to take a seat in.")


class MarkPaidRequest(RequestModel):
    reference: Text = Field("", max_length=120, description="Payment reference, e.g. a receipt.")


class FeesQuery(RequestModel):
    status: FeeStatus | None = Field(
        None, description="Only fees in this state; `due` is what a card did not pay."
    )
    order_id: Id | None = Field(None, description="One order's fees.")
    practitioner_id: Id | None = Field(
        None, description="Staff: one practitioner's fees. Practitioners: only their own id."
    )


class WaiveFeeRequest(RequestModel):
    reason: Text = Field("", max_length=200, description="Why the fee is let go.")


class ScheduleRequest(RequestModel):
    start_time: Instant


class CancelRequest(RequestModel):
    reason: Text = Field("", max_length=200)
    client_requested: bool = Field(
        False,
        description="Practitioner or staff: the client asked for this cancel. Past the "
        "service's cut-off that makes it the client's late cancel (a credit is forfeited); "
        "otherwise the client gets their credit back.",
    )


# Responses


class ServiceRef(ResponseModel):
    id: int
    name: str
    service_type: ServiceType


class Attendee(ResponseModel):
    booking_id: int
    user_id: int
    name: str
    status: BookingStatus
    livekit_identity: str


class Event(ResponseModel):
    service_session_id: int
    service: ServiceRef
    session_type: SessionType
    sequence_number: int | None
    title: str
    start_time: Instant
    end_time: Instant
    timezone: str
    status: SessionStatus
    practitioner_id: int
    max_participants: int
    current_participants: int | None = Field(
        description="Null where the practitioner hides seat counts from clients "
        "(its practitioner and staff always get it)."
    )
    attendee_count: int | None = Field(
        description="Seats taken in the session (all attendees); null as current_participants."
    )
    attendees: list[Attendee] = Field(
        description="Staff and the session's practitioner see everyone; others see themselves."
    )
    livekit_room: str


class Calendar(ResponseModel):
    events: list[Event]


class Component(ResponseModel):
    service_id: int
    quantity: int


class UpcomingSession(ResponseModel):
    service_session_id: int
    sequence_number: int | None
    start_time: Instant
    end_time: Instant
    seats_left: int | None = Field(
        description="Null where the practitioner hides seat counts from clients "
        "(its practitioner and staff always get it); available still says whether one is free."
    )
    available: bool = Field(description="A seat is free.")


class ServiceOut(ResponseModel):
    id: int
    name: str
    description: str
    service_type: ServiceType
    practitioner_id: int
    price_cents: MinorUnits
    currency: str
    duration_minutes: int
    max_participants: int
    cancellation_cutoff_hours: int
    validity_days: int | None
    is_active: bool
    components: list[Component] = Field(description="Packages and bundles: what they include.")
    sessions: list[UpcomingSession] = Field(
        description="Workshops and courses: upcoming scheduled sessions."
    )


class ServiceList(ResponseModel):
    services: list[ServiceOut]


class Slot(ResponseModel):
    start_time: Instant = Field(description="Give this as start_time to POST /orders.")
    end_time: Instant


class SlotList(ResponseModel):
    service_id: int
    duration_minutes: int
    slots: list[Slot] = Field(
        description="Free starts in the window, earliest first; none past the booking horizon."
    )


class OrderOut(ResponseModel):
    id: int
    status: OrderStatus
    service_id: int
    total_cents: MinorUnits
    currency: str
    hold_expires_at: Instant | None
    paid_at: Instant | None


class BookingOut(ResponseModel):
    id: int
    status: BookingStatus
    service_id: int
    service_session_id: int
    order_id: int
    start_time: Instant | None = Field(description="null while a package/bundle credit is unused.")
    end_time: Instant | None


class PassOut(ResponseModel):
    id: int
    service_id: int = Field(description="The class pass service it was bought as.")
    name: str
    practitioner_id: int
    order_id: int
    order_status: OrderStatus
    credits: int = Field(description="Credits bought.")
    credits_used: int
    credits_left: int
    unlimited: bool = Field(
        description="A period of an unlimited membership: credits is a bound no one reaches, "
        "and only per_day and per_week limit it."
    )
    expires_at: Instant | None = Field(description="null: the credits do not expire.")
    usable: bool = Field(description="Paid, unexpired and with credits left.")
    eligible_services: list[ServiceRef] = Field(
        description="The classes it names, as sold (editing the pass later changes nothing)."
    )
    eligible_tag: str | None = Field(description="Any class of its practitioner with this tag.")
    per_day: int | None = Field(description="At most this many classes a day, if set.")
    per_week: int | None = Field(description="At most this many classes a week, if set.")


class PassList(ResponseModel):
    passes: list[PassOut] = Field(description="The caller's passes, newest first.")


class PassPurchaseResponse(ResponseModel):
    order: OrderOut
    class_pass: PassOut = Field(description="Usable once the order is paid.")


class OrderResponse(ResponseModel):
    order: OrderOut
    bookings: list[BookingOut]


class FeeOut(ResponseModel):
    id: int
    order_id: int
    booking_id: int
    service_id: int
    kind: FeeKind
    status: FeeStatus = Field(
        description="pending: to be charged to the card on file; charged: collected; due: "
        "the card did not pay, the client owes it; waived: let go by the practitioner."
    )
    amount_cents: int
    currency: str
    failure: str = Field(description="Why the card did not pay (a due fee), else empty.")
    waive_reason: str
    created_at: Instant
    settled_at: Instant | None


class FeeList(ResponseModel):
    fees: list[FeeOut] = Field(description="Newest first, at most 500.")
    due_cents: dict[str, int] = Field(
        description="The listed fees still due, summed per currency (ISO 4217 code)."
    )


class BookingResponse(ResponseModel):
    booking: BookingOut


class CancelResponse(ResponseModel):
    booking: BookingOut
    credit: BookingOut | None = Field(
        description="The unscheduled credit given back when a package/bundle booking is canceled."
    )


Outcome = Literal["attended", "no_show", "pending"]
Percent = Annotated[
    float | None,
    Field(description="A percentage rounded to 0.1; null when there is nothing to divide by."),
]


class AttendanceBooking(ResponseModel):
    booking_id: int
    user_id: int
    name: str
    outcome: Outcome = Field(
        description="The recorded (possibly overridden) outcome once the session is completed; "
        "before that attended as soon as the room time suffices, else pending."
    )
    overridden: bool = Field(description="A practitioner or staff member set the outcome by hand.")
    total_seconds: int = Field(description="Room time summed over all the person's sids.")
    first_joined_at: Instant | None
    last_left_at: Instant | None
    late_join: bool
    early_leave: bool


class LateCancel(ResponseModel):
    booking_id: int
    user_id: int
    name: str
    canceled_at: Instant | None


class Participant(ResponseModel):
    user_id: int | None = Field(description="null for a participant who was not signed in.")
    identity: str
    participant_sid: str
    display_name: str
    participant_kind: str = Field(description="host, booked or unbooked.")
    joined_at: Instant | None
    left_at: Instant | None
    duration_seconds: int | None = Field(description="null while the participant is still in.")


class SessionAttendanceOut(ResponseModel):
    session_id: int
    status: SessionStatus
    service_id: int
    practitioner_id: int
    start_time: Instant
    end_time: Instant
    actual_start_time: Instant | None
    actual_end_time: Instant | None
    booked: list[int] = Field(description="User ids holding a confirmed seat.")
    attended: list[int] = Field(description="Booked user ids whose outcome is attended.")
    no_shows: list[int] = Field(
        description="Booked user ids who did not attend a completed session."
    )
    bookings: list[AttendanceBooking] = Field(description="Each confirmed seat with its outcome.")
    late_cancels: list[LateCancel] = Field(
        description="Seats canceled past the cut-off: neither booked nor no-shows."
    )
    participants: list[Participant] = Field(description="The room's rows, one per sid.")


class ReportCounts(ResponseModel):
    booked: int = Field(description="Confirmed seats of completed sessions.")
    attended: int
    no_shows: int
    no_show_rate: Percent
    late_cancels: int


class ServiceReportRow(ReportCounts):
    service_id: int
    name: str
    practitioner_name: str


class ClientReportRow(ReportCounts):
    user_id: int
    name: str
    email: str
    repeat_no_show: bool = Field(description="At least repeat_no_show_threshold no-shows.")


class WeekReportRow(ReportCounts):
    week_start: date = Field(description="The week's Monday (weeks run Monday to Sunday, UTC).")


class NoShowReportOut(ResponseModel):
    start: Instant
    end: Instant
    practitioner_id: int | None
    service_id: int | None
    repeat_no_show_threshold: int
    total: ReportCounts
    by_service: list[ServiceReportRow]
    by_client: list[ClientReportRow]
    weekly: list[WeekReportRow]


class CourseRef(ResponseModel):
    id: int
    name: str
    practitioner_id: int


class Enrollee(ResponseModel):
    user_id: int
    name: str
    email: str
    attended: int = Field(description="Completed sessions of the course the enrollee attended.")
    completed: int = Field(description="Sessions of the course completed so far.")
    rate: Percent


class CourseCompletionOut(ResponseModel):
    course: CourseRef
    sessions: int = Field(description="Sessions of the course, canceled ones excluded.")
    completed_sessions: int
    enrollees: list[Enrollee]


class ErrorBody(ResponseModel):
    code: str = Field(
        description="session_full, slot_unavailable, invalid_transition, hold_expired, "
        "credit_expired, not_bookable, cancellation_window_closed, already_booked, "
        "validation_error, malformed_json, unauthorized, invalid_token, forbidden, not_found, "
        "method_not_allowed, request_too_large, rate_limited, database_unavailable (503, "
        "with Retry-After), internal_error"
    )
    message: str
    fields: dict[str, str] = Field(description="Field name -> what is wrong with it.")
    request_id: str | None = Field(
        None, description="The X-Request-ID of this answer: quote it when reporting a problem."
    )


class ErrorResponse(ResponseModel):
    error: ErrorBody
