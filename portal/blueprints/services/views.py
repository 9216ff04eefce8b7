from flask import redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ... import booking
from ...booking import save_service
from ...extensions import db
from ...models import CREDIT_SERVICE_TYPES, Role, Service, ServiceComponent, ServiceType
from ...web import roles_required, saved_service
from ...web.access import get_own_service
from . import bp
from .forms import ServiceForm


def own_services():
    return db.session.scalars(
        select(Service)
        .where(Service.primary_practitioner_id == current_user.id)
        .options(
            selectinload(Service.components).selectinload(ServiceComponent.included_service),
            selectinload(Service.tags),
            selectinload(Service.pass_terms),
        )
        .order_by(Service.service_type, Service.name)
    ).all()


@bp.route("/")
@roles_required(Role.PRACTITIONER)
def list_services():
    return render_template(
        "services/list.html", services=own_services(), credit_types=CREDIT_SERVICE_TYPES
    )


def _save(form: ServiceForm, service: Service | None):
    return saved_service(
        form,
        lambda: save_service(
            current_user,
            service,
            service_type=service.service_type if service else form.service_type.data,
            tags=(form.tags.data or "").split(","),
            **form.service_values(),
        ),
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def new_service():
    form = ServiceForm()
    if not form.is_submitted() and (latest := booking.latest_service(current_user)):
        form.start_from_policy_of(latest)
    if form.validate_on_submit() and (response := _save(form, None)):
        return response
    return render_template("services/form.html", form=form, service=None)


@bp.route("/<int:service_id>/edit", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def edit_service(service_id: int):
    service = get_own_service(service_id, current_user)
    if service.service_type in CREDIT_SERVICE_TYPES:
        # Bookmarks and old links to a package's edit page land on its own form.
        return redirect(url_for("packages.edit_package", service_id=service.id))
    if service.service_type == ServiceType.CLASS_PASS:
        return redirect(url_for("passes.edit_pass", service_id=service.id))
    if service.service_type == ServiceType.MEMBERSHIP:
        return redirect(url_for("memberships.edit_plan", service_id=service.id))
    form = ServiceForm(obj=service)
    if not form.is_submitted():
        form.show_amounts(service)
        form.show_policy(service)
        form.tags.data = ", ".join(service.tag_names)
    form.service_type.data = service.service_type.value
    form.service_type.render_kw = {"disabled": True}
    if form.validate_on_submit() and (response := _save(form, service)):
        return response
    return render_template("services/form.html", form=form, service=service)
