from datetime import timedelta

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from ... import booking
from ...models import Role
from ...web import render_page, roles_required
from ...web.slot_picker import SlotForm, build_picker
from . import bp, queries


@bp.app_template_global()
def client_credit_groups(user, now):
    """The credits section is part of My bookings; this blueprint owns what it lists."""
    return queries.credit_groups(user, now)


def _own_booking_or_404(booking_id: int):
    found = queries.own_booking(current_user, booking_id)
    if found is None:
        abort(404)
    return found


def _render_picker(credit, *, form=None, error=None, status=200):
    picker = build_picker(
        credit.service_session.practitioner,
        timedelta(minutes=credit.service.duration_minutes),
        current_user.zone,
        request.values.get("day"),
        page_endpoint="packages.schedule_credit",
        page_args={"booking_id": credit.id},
        action=url_for("packages.schedule_credit", booking_id=credit.id),
    )
    return render_page(
        "packages/schedule_credit.html",
        "_slot_picker.html",
        booking=credit,
        picker=picker,
        slot_form=form or SlotForm(formdata=None),
        error=error,
    ), status


# The path sits under /bookings/ because links to it were sent before packages had a folder.
@bp.route("/bookings/<int:booking_id>/schedule", methods=["GET", "POST"])
@roles_required(Role.CLIENT)
def schedule_credit(booking_id: int):
    credit = _own_booking_or_404(booking_id)
    if request.method == "GET":
        return _render_picker(credit)
    form = SlotForm()
    if not form.validate():
        first = next(iter(form.errors.values()))[0]
        return _render_picker(credit, form=form, error=first, status=422)
    try:
        booking.schedule_credit(credit, form.start_time)
    except booking.DomainError as exc:
        return _render_picker(credit, form=form, error=exc.message, status=exc.http_status)
    when = form.start_time.astimezone(current_user.zone).strftime("%a %d %b %Y %H:%M")
    flash(f"{credit.service.name} is scheduled for {when} ({current_user.timezone}).", "success")
    return redirect(url_for("bookings.index"))
