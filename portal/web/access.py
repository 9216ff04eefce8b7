"""One lookup-and-permission helper per object, shared by the pages and the JSON API
(the Flask tutorial's get_post(id, check_author=True)).

Each returns the object or aborts: 404 when the object does not exist for the viewer (another
practitioner's session or course among them), 403 when the viewer may know it exists but not
do this. The pages render the abort as the error page; under /api/ the same abort comes back in
the API's JSON error shape (portal/web/errors.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TypeVar

from flask import abort
from flask_babel import gettext
from flask_login import AnonymousUserMixin
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import records
from ..database import MAX_ID
from ..extensions import db
from ..models import (
    SEAT_HOLDING,
    Booking,
    Fee,
    IntakeForm,
    IntakeSubmission,
    IntakeUpload,
    Order,
    Receipt,
    Role,
    Service,
    ServiceSession,
    ServiceType,
    SessionNote,
    User,
    Visibility,
)

Owned = TypeVar("Owned")

# The rules, each written once.


def hidden_from(user: User, practitioner_id: int) -> bool:
    """Another practitioner's sessions and courses do not exist for a practitioner."""
    return user.is_practitioner and practitioner_id != user.id


def manages_session(user: User, session: ServiceSession) -> bool:
    return user.is_staff or session.practitioner_id == user.id


def sees_seat_counts(user: User | AnonymousUserMixin, service: Service) -> bool:
    """Whether the viewer (a visitor too) may read how many seats are taken or left: always
    its practitioner and staff; anyone else only where the practitioner shows the count."""
    if service.show_seats_left:
        return True
    return user.is_authenticated and (user.is_staff or user.id == service.primary_practitioner_id)


def holds_seat(user: User, session: ServiceSession) -> bool:
    return any(b.user_id == user.id and b.status in SEAT_HOLDING for b in session.bookings)


def has_booking_in(user: User, session: ServiceSession) -> bool:
    """Whether the user has (or had: any status) a booking in the session."""
    found = db.session.scalar(
        select(Booking.id)
        .where(Booking.service_session_id == session.id, Booking.user_id == user.id)
        .limit(1)
    )
    return found is not None


def may_collect(user: User, order: Order) -> bool:
    """Staff and the practitioner the order pays may record its payment."""
    return user.is_staff or (
        user.is_practitioner and order.service.primary_practitioner_id == user.id
    )


# The helpers.


class SessionUse(Enum):
    """What the viewer wants of a session; each asks for a different right."""

    # Its practitioner and staff: rosters, attendance, outcomes.
    MANAGE = "manage"
    # Its practitioner only: staff read other calendars but do not change them.
    EDIT = "edit"
    # A scheduled session as an event: its practitioner, staff, seat holders; anyone if public.
    VIEW = "view"
    # Its attendance: its practitioner and staff, or a client with a booking in it (their own
    # entries). A public session's other viewers learn they may not (403).
    ATTENDANCE = "attendance"


def get_session(
    session_id: int | None,
    user: User,
    use: SessionUse = SessionUse.MANAGE,
    *,
    loads: Sequence = (),
    refresh: bool = False,
) -> ServiceSession:
    session = (
        db.session.get(ServiceSession, session_id, options=loads, populate_existing=refresh)
        if session_id is not None
        else None
    )
    if session is None:
        abort(404, gettext("No such session."))
    if use in (SessionUse.MANAGE, SessionUse.EDIT):
        if hidden_from(user, session.practitioner_id):
            abort(404, gettext("No such session."))
        if not manages_session(user, session):
            abort(403)
        if use == SessionUse.EDIT and session.practitioner_id != user.id:
            abort(403)
        return session
    public = session.visibility == Visibility.PUBLIC
    if session.start_time is None:
        abort(404, gettext("No such session."))
    if use == SessionUse.VIEW:
        if not (public or manages_session(user, session) or holds_seat(user, session)):
            abort(404, gettext("No such session."))
        return session
    if manages_session(user, session) or has_booking_in(user, session):
        return session
    if public and not hidden_from(user, session.practitioner_id):
        abort(
            403, gettext("Only the session's practitioner, staff and its clients see attendance.")
        )
    abort(404, gettext("No such session."))


def get_booking(booking_id: int, user: User) -> Booking:
    """The booking for its client, its session's practitioner and staff; others 404."""
    found = db.session.get(
        Booking,
        booking_id,
        options=(selectinload(Booking.service_session), selectinload(Booking.service)),
        populate_existing=True,
    )
    if found is None:
        abort(404, gettext("No such booking."))
    session = found.service_session
    if not (
        found.user_id == user.id
        or user.is_staff
        or (session is not None and session.practitioner_id == user.id)
    ):
        abort(404, gettext("No such booking."))
    return found


def get_order(
    order_id: int,
    user: User,
    *,
    collect: bool = False,
    pay: bool = False,
    loads: Sequence = (),
    refresh=False,
) -> Order:
    """The order for its buyer, the practitioner it pays and staff; others learn nothing (404).
    To collect (record its payment) it must be the practitioner's or staff's: the buyer gets 403.
    To pay it (a deposit's balance) it must be the buyer's: the practitioner and staff get 403."""
    order = db.session.get(Order, order_id, options=loads, populate_existing=refresh)
    if order is None:
        abort(404, gettext("No such order."))
    if may_collect(user, order):
        if pay:
            abort(403, gettext("Only the client who placed the order pays it online."))
        return order
    if order.user_id != user.id:
        abort(404, gettext("No such order."))
    if collect:
        abort(403, gettext("Only the practitioner or staff can record a payment."))
    return order


def get_fee(
    fee_id: int, user: User, *, collect: bool = False, pay: bool = False, loads: Sequence = ()
) -> tuple[Order, Fee]:
    """A fee with its order, for whoever get_order lets see the order (and collect from it,
    or pay it, with the same refusals); others learn nothing (404)."""
    fee = db.session.get(Fee, fee_id) if fee_id <= MAX_ID else None
    if fee is None:
        abort(404, gettext("No such fee."))
    order = get_order(fee.order_id, user, collect=collect, pay=pay, loads=loads)
    return order, fee


def get_receipt(receipt_id: int, user: User, *, loads: Sequence = ()) -> Receipt:
    """A receipt for whoever may see its order (its client, the practitioner who issued it,
    staff); others learn nothing (404)."""
    receipt = db.session.get(Receipt, receipt_id) if receipt_id <= MAX_ID else None
    if receipt is None:
        abort(404, gettext("No such receipt."))
    get_order(receipt.payment.order_id, user, loads=loads)
    return receipt


def get_course(course_id: int, user: User) -> Service:
    """A course for its practitioner and staff.

    Unknown ids, other services, another practitioner's course and (for a client: the shop
    shows only active services) an inactive course are 404; a client gets 403.
    """
    course = db.session.get(Service, course_id)
    if course is None or course.service_type != ServiceType.COURSE:
        abort(404, gettext("No such course."))
    if user.is_staff or course.primary_practitioner_id == user.id:
        return course
    if not course.is_active or hidden_from(user, course.primary_practitioner_id):
        abort(404, gettext("No such course."))
    abort(403, gettext("Only the course's practitioner and staff see it."))


def get_own(
    model: type[Owned],
    object_id: int,
    user: User,
    *,
    owner: str = "user_id",
    loads: Sequence = (),
    message: str | None = None,
) -> Owned:
    """The viewer's own row of `model` (its `owner` column names them), or 404: another
    person's booking, waitlist entry, token or endpoint does not exist for them."""
    found = db.session.get(model, object_id, options=loads)
    if found is None or getattr(found, owner) != user.id:
        abort(404, message)
    return found


def get_own_service(service_id: int, user: User) -> Service:
    """A service its practitioner edits; anyone else's does not exist for them."""
    return get_own(
        Service,
        service_id,
        user,
        owner="primary_practitioner_id",
        message=gettext("No such service."),
    )


def get_calendar_owner(user: User, wanted: int | None) -> User:
    """Whose calendar: a practitioner's own; for staff (read-only) the practitioner they
    picked, or the first by name when they picked none."""
    if wanted is not None and not 0 < wanted <= MAX_ID:
        abort(404)
    if user.is_practitioner:
        if wanted not in (None, user.id):
            abort(404)
        return user
    if not user.is_staff:
        abort(403)
    query = select(User).where(User.role == Role.PRACTITIONER)
    query = query.where(User.id == wanted) if wanted else query.order_by(User.name).limit(1)
    owner = db.session.scalar(query)
    if owner is None:
        abort(404)
    return owner


def get_booking_notes(
    booking_id: int, user: User, *, write: bool = False
) -> tuple[Booking, SessionNote | None]:
    """A booking's session note, with the booking: for the session's practitioner (who
    writes it), and to read for staff once the practitioner shared it. For anyone else,
    the client included, neither the note nor the page exists (404)."""
    found = db.session.get(Booking, booking_id, options=(selectinload(Booking.service_session),))
    if found is None:
        abort(404, gettext("No such note."))
    if records.writes_notes_for(user, found):
        return found, records.note_for(found)
    note = records.note_for(found) if user.is_staff and not write else None
    if note is None or not records.may_read(user, note):
        abort(404, gettext("No such note."))
    return found, note


def get_client_of(client_id: int, user: User) -> User:
    """A client of the practitioner (a booking in one of their sessions); no one else's
    record exists for them."""
    client = db.session.get(User, client_id)
    if client is None or not records.is_client_of(user.id, client.id):
        abort(404, gettext("No such client."))
    return client


def get_intake_form(form_id: int, user: User) -> IntakeForm:
    """A practitioner's own intake form; for anyone else it does not exist."""
    form = db.session.get(IntakeForm, form_id)
    if form is None or form.practitioner_id != user.id:
        abort(404, gettext("No such form."))
    return form


def get_intake_submission(submission_id: int, user: User) -> IntakeSubmission:
    """Intake answers, for the client who gave them and the practitioner who asked: health
    data, so no one else (staff included) learns they exist."""
    submission = db.session.get(IntakeSubmission, submission_id)
    if submission is None or not records.may_read_answers(user, submission):
        abort(404, gettext("No such answers."))
    return submission


def get_intake_upload(upload_id: int, user: User) -> IntakeUpload:
    upload = db.session.get(IntakeUpload, upload_id)
    if upload is None or not records.may_read_answers(user, upload.submission):
        abort(404, gettext("No such file."))
    return upload
