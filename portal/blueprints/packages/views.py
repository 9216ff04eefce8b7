from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms import SelectChoice

from ... import booking
from ...booking import save_service
from ...models import CREDIT_SERVICE_TYPES, Booking, Role, Service
from ...web import local_time, render_page, roles_required, saved_service
from ...web.access import get_own, get_own_service
from ...web.purchases import buy_offer
from ...web.slot_picker import SlotForm, build_picker
from . import bp, queries
from .forms import PackageForm


def _render_picker(credit, *, form=None, error=None, status=200):
    picker = build_picker(
        credit.service_session.practitioner,
        credit.service,
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
    credit = get_own(Booking, booking_id, current_user, loads=booking.CREDIT_LOADS)
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
    when = local_time(form.start_time)
    flash(
        gettext(
            "%(service_name)s is scheduled for %(when)s (%(timezone)s).",
            service_name=credit.service.name,
            when=when,
            timezone=current_user.timezone,
        ),
        "success",
    )
    return redirect(url_for("bookings.index"))


# -- Defining a package or bundle (the practitioner) ----------------------------------------


def _prepare(form: PackageForm, service: Service | None) -> None:
    choices = [SelectChoice(0, "—")] + [
        SelectChoice(s.id, s.name) for s in queries.own_individual_services(current_user)
    ]
    for line in form.components:
        line.included.choices = choices
    if service is not None:
        form.service_type.render_kw = {"disabled": True}
        form.service_type.data = service.service_type.value


def _save(form: PackageForm, service: Service | None):
    lines = [
        (line.included.data, line.quantity.data or 1)
        for line in form.components
        if line.included.data
    ]
    return saved_service(
        form,
        lambda: save_service(
            current_user,
            service,
            components=lines,
            service_type=service.service_type if service else form.service_type.data,
            validity_days=form.validity_days.data,
            **form.service_values(),
        ),
    )


@bp.route("/practice/packages/new", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def new_package():
    form = PackageForm()
    if not form.is_submitted() and (latest := booking.latest_service(current_user)):
        form.start_from_policy_of(latest)
    _prepare(form, None)
    if form.validate_on_submit() and (response := _save(form, None)):
        return response
    return render_template("packages/form.html", form=form, service=None)


@bp.route("/practice/packages/<int:service_id>/edit", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def edit_package(service_id: int):
    service = get_own_service(service_id, current_user)
    if service.service_type not in CREDIT_SERVICE_TYPES:
        abort(404)
    form = PackageForm(obj=service)
    if not form.is_submitted():
        form.show_amounts(service)
        for line, component in zip(form.components, service.components, strict=False):
            line.included.data = component.included_service_id
            line.quantity.data = component.quantity
    _prepare(form, service)
    if form.validate_on_submit() and (response := _save(form, service)):
        return response
    return render_template("packages/form.html", form=form, service=service)


# -- Buying one (the client) -----------------------------------------------------------------


@bp.route("/book/packages/<int:service_id>/buy", methods=["POST"])
@roles_required(Role.CLIENT)
def buy_package(service_id: int):
    service = queries.offered_package(service_id)
    if service is None:
        abort(404)
    return buy_offer(
        "packages.buy_package",
        service,
        lambda: booking.buy_credits(current_user, service),
        "packages/offer.html",
    )
