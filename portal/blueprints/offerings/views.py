from decimal import Decimal

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from ... import booking
from ...booking.catalog import save_service
from ...extensions import db
from ...models import Role, Service, ServiceComponent, ServiceType
from ...web import roles_required, show_domain_error
from ...web.access import get_own_service
from . import bp
from .forms import ServiceForm


def own_services():
    return db.session.scalars(
        select(Service)
        .where(Service.primary_practitioner_id == current_user.id)
        .options(selectinload(Service.components).selectinload(ServiceComponent.included_service))
        .order_by(Service.service_type, Service.name)
    ).all()


@bp.route("/")
@roles_required(Role.PRACTITIONER)
def list_services():
    return render_template("offerings/list.html", services=own_services())


def _prepare(form: ServiceForm, service: Service | None) -> None:
    choices = [SelectChoice(0, "—")] + [
        SelectChoice(s.id, s.name)
        for s in own_services()
        if s.service_type == ServiceType.INDIVIDUAL and (service is None or s.id != service.id)
    ]
    for line in form.components:
        line.included.choices = choices
    if service is not None:
        form.service_type.render_kw = {"disabled": True}
        form.service_type.data = service.service_type.value


def _save(form: ServiceForm, service: Service | None):
    lines = [
        (line.included.data, line.quantity.data or 1)
        for line in form.components
        if line.included.data
    ]
    try:
        saved = save_service(
            current_user,
            service,
            components=lines,
            name=form.name.data.strip(),
            description=form.description.data or "",
            service_type=service.service_type if service else form.service_type.data,
            price_cents=int((form.price.data * 100).to_integral_value()),
            currency=form.currency.data,
            duration_minutes=form.duration_minutes.data,
            max_participants=form.max_participants.data,
            cancellation_cutoff_hours=form.cancellation_cutoff_hours.data,
            validity_days=form.validity_days.data,
            is_active=form.is_active.data,
        )
    except booking.DomainError as error:
        show_domain_error(form, error)
        return None
    flash(f"{saved.name} is saved.", "success")
    return redirect(url_for("offerings.list_services"))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def new_service():
    form = ServiceForm()
    _prepare(form, None)
    if form.validate_on_submit() and (response := _save(form, None)):
        return response
    return render_template("offerings/form.html", form=form, service=None)


@bp.route("/<int:service_id>/edit", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def edit_service(service_id: int):
    service = get_own_service(service_id, current_user)
    form = ServiceForm(obj=service)
    if not form.is_submitted():
        form.price.data = Decimal(service.price_cents) / 100
        for line, component in zip(form.components, service.components, strict=False):
            line.included.data = component.included_service_id
            line.quantity.data = component.quantity
    _prepare(form, service)
    if form.validate_on_submit() and (response := _save(form, service)):
        return response
    return render_template("offerings/form.html", form=form, service=service)
