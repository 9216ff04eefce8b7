from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from ... import booking
from ...database import utcnow
from ...models import (
    CREDIT_SESSION_TYPES,
    Booking,
    CancelReason,
    ClassPass,
    Role,
    SessionType,
    WaitlistEntry,
    WaitlistStatus,
)
from ...web import confirm_page, is_confirmed, local_time, render_page, roles_required
from ...web.access import get_own
from ...web.slot_picker import SlotForm, build_picker
from . import bp, queries
from .forms import OfferPassForm


def _render_index(errors=None, status=200):
    """My bookings; errors are keyed by booking id (or "w<entry id>") and shown on their row."""
    now = utcnow()
    mine = queries.my_bookings(current_user, now)
    errors = errors or {}
    on_rows = (
        {row.booking.id for row in mine.upcoming}
        | {row.booking.id for course in mine.courses for row in course.rows}
        | {f"w{e.id}" for e in mine.waitlist}
    )
    # An offer may be taken with a class pass credit: the passes that could pay for each.
    offer_passes = {
        e.id: booking.usable_passes(current_user, e.service_session.service, now)
        for e in mine.waitlist
        if e.status == WaitlistStatus.OFFERED
    }
    return render_template(
        "bookings/index.html",
        mine=mine,
        offer_passes=offer_passes,
        errors=errors,
        page_errors=[message for key, message in errors.items() if key not in on_rows],
        credit_groups=booking.credit_groups(current_user, now),
        fees_due=queries.fees_due(current_user),
        now=now,
    ), status


@bp.route("/")
@roles_required(Role.CLIENT)
def index():
    return _render_index()


def _render_picker(b, *, form=None, error=None, status=200):
    """The slot picker page for moving a booking."""
    picker = build_picker(
        b.service_session.practitioner,
        b.service,
        current_user.zone,
        # Opens on the booking's own day: moving it is usually by a little.
        request.values.get("day")
        or b.service_session.start_time.astimezone(current_user.zone).date().isoformat(),
        page_endpoint="bookings.reschedule",
        page_args={"booking_id": b.id},
        action=url_for("bookings.reschedule", booking_id=b.id),
    )
    return render_page(
        "bookings/reschedule.html",
        "_slot_picker.html",
        booking=b,
        picker=picker,
        slot_form=form or SlotForm(formdata=None),
        error=error,
    ), status


@bp.route("/<int:booking_id>/reschedule", methods=["GET", "POST"])
@roles_required(Role.CLIENT)
def reschedule(booking_id: int):
    b = get_own(Booking, booking_id, current_user, loads=queries.booking_options())
    if request.method == "GET":
        return _render_picker(b)
    form = SlotForm()
    if not form.validate():
        first = next(iter(form.errors.values()))[0]
        return _render_picker(b, form=form, error=first, status=422)
    try:
        booking.reschedule_booking(b, current_user, form.start_time)
    except booking.DomainError as exc:
        return _render_picker(b, form=form, error=exc.message, status=exc.http_status)
    when = local_time(form.start_time)
    flash(
        gettext(
            "%(service_name)s is moved for %(when)s (%(timezone)s).",
            service_name=b.service.name,
            when=when,
            timezone=current_user.timezone,
        ),
        "success",
    )
    return redirect(url_for("bookings.index"))


@bp.route("/<int:booking_id>/cancel", methods=["POST"])
@roles_required(Role.CLIENT)
def cancel(booking_id: int):
    b = get_own(Booking, booking_id, current_user, loads=queries.booking_options())
    if not is_confirmed():
        session = b.service_session
        when = local_time(session.start_time, "day-month-time")
        credit = session.session_type in CREDIT_SESSION_TYPES or b.order.service.is_class_pass
        fee = booking.late_cancel_fee(b, utcnow())
        if fee:
            return confirm_page(
                question=gettext(
                    "Cancel %(display_title)s on %(when)s?",
                    display_title=session.display_title,
                    when=when,
                ),
                consequence=gettext(
                    "The cut-off has passed: canceling now costs the late-cancel fee of "
                    "%(fee)s, charged to the card you booked with.",
                    fee=b.order.money_display(fee),
                ),
                button=gettext("Yes, cancel and pay the fee"),
                back=url_for("bookings.index"),
            )
        return confirm_page(
            question=gettext(
                "Cancel %(display_title)s on %(when)s?",
                display_title=session.display_title,
                when=when,
            ),
            consequence=gettext(
                "Your credit comes back to schedule again, unless the cut-off has passed."
            )
            if credit
            else gettext("Your seat goes back on sale; this cannot be undone."),
            button=gettext("Yes, cancel it"),
            back=url_for("bookings.index"),
        )
    try:
        credit = booking.cancel_booking(b, current_user, reason=CancelReason.BY_CLIENT)
    except booking.DomainError as exc:
        return _render_index(errors={b.id: exc.message}, status=exc.http_status)
    message = _canceled_message(b, credit is not None)
    # A client's own cancel is never late (refused past the cut-off): the credit comes back.
    if b.order.service.is_class_pass:
        message = gettext(
            "%(service_name)s is canceled. Its class pass credit is returned.",
            service_name=b.service.name,
        )
    flash(message, "success")
    return redirect(url_for("bookings.index"))


def _canceled_message(b, credit_returned: bool) -> str:
    """Name what was canceled: one course session's seat is not the course."""
    session = b.service_session
    when = local_time(session.start_time, "day-month-time")
    if session.session_type == SessionType.COURSE_SESSION:
        return (
            f"Your seat in {session.display_title} on {when} is canceled; "
            f"your other {b.service.name} sessions stay booked."
        )
    if credit_returned:
        return (
            f"{b.service.name} is canceled. Your credit is returned: schedule it again "
            "under Unscheduled credits."
        )
    return f"{b.service.name} is canceled."


@bp.route("/waitlist/<int:entry_id>/leave", methods=["POST"])
@roles_required(Role.CLIENT)
def leave_waitlist(entry_id: int):
    entry = get_own(WaitlistEntry, entry_id, current_user)
    offered = entry.status == WaitlistStatus.OFFERED
    try:
        booking.leave_waitlist(entry)
    except booking.DomainError as exc:
        return _render_index(errors={f"w{entry.id}": exc.message}, status=exc.http_status)
    flash(
        gettext("You declined the seat.") if offered else gettext("You left the waitlist."),
        "success",
    )
    return redirect(url_for("bookings.index"))


@bp.route("/waitlist/<int:entry_id>/accept", methods=["POST"])
@roles_required(Role.CLIENT)
def accept_offer(entry_id: int):
    entry = get_own(WaitlistEntry, entry_id, current_user)
    try:
        booking.accept_offer(entry)
    except booking.DomainError as exc:
        return _render_index(errors={f"w{entry.id}": exc.message}, status=exc.http_status)
    flash(gettext("The seat is yours: your booking is confirmed."), "success")
    return redirect(url_for("bookings.index"))


@bp.route("/waitlist/<int:entry_id>/accept-with-pass", methods=["POST"])
@roles_required(Role.CLIENT)
def accept_offer_with_pass(entry_id: int):
    entry = get_own(WaitlistEntry, entry_id, current_user)
    form = OfferPassForm()
    if not form.validate():
        return _render_index(
            errors={f"w{entry.id}": gettext("Pick one of your class passes.")}, status=422
        )
    class_pass = get_own(
        ClassPass, form.pass_id.data, current_user, message=gettext("No such pass.")
    )
    try:
        booking.accept_offer_with_pass(entry, class_pass)
    except booking.DomainError as exc:
        return _render_index(errors={f"w{entry.id}": exc.message}, status=exc.http_status)
    flash(
        gettext(
            "The seat is yours: your booking is confirmed with a credit of %(pass_name)s.",
            pass_name=class_pass.service.name,
        ),
        "success",
    )
    return redirect(url_for("bookings.index"))
