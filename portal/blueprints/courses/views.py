from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ... import booking
from ...booking import timetable
from ...extensions import db
from ...models import (
    SEAT_HOLDING,
    Booking,
    Order,
    Role,
    Service,
    ServiceSession,
    ServiceType,
)
from ...web import roles_required
from ..calendar.forms import show_domain_error
from ..calendar.queries import find_client
from . import bp
from .forms import CourseForm, EnrollForm


def load_course(course_id: int) -> Service:
    course = db.session.get(Service, course_id)
    if course is None or course.service_type != ServiceType.COURSE:
        abort(404)
    if current_user.is_practitioner and course.primary_practitioner_id != current_user.id:
        abort(404)
    return course


@bp.route("/")
@roles_required(Role.PRACTITIONER)
def list_courses():
    sessions = (
        select(ServiceSession.service_id, func.count(ServiceSession.id).label("n"))
        .group_by(ServiceSession.service_id)
        .subquery()
    )
    enrolled = (
        select(Order.service_id, func.count(func.distinct(Order.user_id)).label("n"))
        .join(Booking, Booking.order_id == Order.id)
        .where(Booking.status.in_(SEAT_HOLDING))
        .group_by(Order.service_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Service, func.coalesce(sessions.c.n, 0), func.coalesce(enrolled.c.n, 0))
        .outerjoin(sessions, sessions.c.service_id == Service.id)
        .outerjoin(enrolled, enrolled.c.service_id == Service.id)
        .where(
            Service.primary_practitioner_id == current_user.id,
            Service.service_type == ServiceType.COURSE,
        )
        .order_by(Service.name)
    ).all()
    return render_template("courses/list.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def new_course():
    form = CourseForm()
    if form.validate_on_submit():
        try:
            starts = timetable.recurrence(
                form.start_date.data,
                form.start_time.data,
                current_user.timezone,
                frequency=form.frequency.data,
                interval=form.interval.data,
                count=form.count.data,
            )
            course = timetable.create_course(
                current_user,
                starts,
                name=form.name.data.strip(),
                description=form.description.data or "",
                price_cents=int((form.price.data * 100).to_integral_value()),
                currency=form.currency.data,
                duration_minutes=form.duration_minutes.data,
                max_participants=form.max_participants.data,
                cancellation_cutoff_hours=form.cancellation_cutoff_hours.data,
                is_active=form.is_active.data,
            )
        except booking.DomainError as error:
            show_domain_error(form, error)
        else:
            flash(f"{course.name} is created with {len(starts)} sessions.", "success")
            return redirect(url_for("courses.show_course", course_id=course.id))
    return render_template("courses/new.html", form=form)


def _course_page(course: Service, enroll_form: EnrollForm, status: int = 200):
    sessions = db.session.scalars(
        select(ServiceSession)
        .where(ServiceSession.service_id == course.id)
        .options(selectinload(ServiceSession.bookings).selectinload(Booking.user))
        .order_by(ServiceSession.sequence_number, ServiceSession.start_time)
    ).all()
    orders = db.session.scalars(
        select(Order)
        .where(Order.service_id == course.id)
        .options(selectinload(Order.user), selectinload(Order.bookings))
        .order_by(Order.created_at)
    ).all()
    return (
        render_template(
            "courses/show.html",
            course=course,
            sessions=sessions,
            orders=orders,
            seat_holding=SEAT_HOLDING,
            can_edit=course.primary_practitioner_id == current_user.id,
            enroll_form=enroll_form,
        ),
        status,
    )


@bp.route("/<int:course_id>")
@roles_required(Role.PRACTITIONER, Role.STAFF)
def show_course(course_id: int):
    return _course_page(load_course(course_id), EnrollForm(formdata=None))


@bp.route("/<int:course_id>/enroll", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def enroll(course_id: int):
    course = load_course(course_id)
    form = EnrollForm()
    if form.validate_on_submit():
        client = find_client(form.email.data)
        if client is None:
            form.email.errors.append("No client account has that email.")
        else:
            try:
                order = timetable.enroll_client(course, client, paid=form.paid.data)
            except booking.DomainError as error:
                show_domain_error(form, error)
            else:
                flash(
                    f"{client.name} is enrolled in {len(order.bookings)} sessions "
                    f"(order {order.status.label}).",
                    "success",
                )
                return redirect(url_for("courses.show_course", course_id=course.id))
    return _course_page(course, form, status=422)
