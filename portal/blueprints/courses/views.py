from flask import flash, redirect, render_template, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from ... import booking
from ...accounts import find_client
from ...models import SEAT_HOLDING, Role, Service
from ...web import roles_required, show_domain_error
from ...web.access import get_course
from . import bp, queries
from .forms import CourseForm, EnrollForm


@bp.route("/")
@roles_required(Role.PRACTITIONER)
def list_courses():
    return render_template("courses/list.html", rows=queries.courses_with_counts(current_user))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def new_course():
    form = CourseForm()
    if not form.is_submitted() and (latest := booking.latest_service(current_user)):
        form.start_from_policy_of(latest)
    if form.validate_on_submit():
        try:
            starts = booking.recurrence(
                form.start_date.data,
                form.start_time.data,
                current_user.timezone,
                frequency=form.frequency.data,
                interval=form.interval.data,
                count=form.count.data,
            )
            course = booking.create_course(current_user, starts, **form.service_values())
        except booking.DomainError as error:
            show_domain_error(form, error)
        else:
            flash(
                ngettext(
                    "%(name)s is created with %(num)d session.",
                    "%(name)s is created with %(num)d sessions.",
                    len(starts),
                    name=course.name,
                ),
                "success",
            )
            return redirect(url_for("courses.show_course", course_id=course.id))
    return render_template("courses/new.html", form=form)


def _course_page(course: Service, enroll_form: EnrollForm, status: int = 200):
    return (
        render_template(
            "courses/show.html",
            course=course,
            sessions=queries.sessions_with_rosters(course),
            orders=queries.orders_of(course),
            seat_holding=SEAT_HOLDING,
            can_edit=course.primary_practitioner_id == current_user.id,
            enroll_form=enroll_form,
        ),
        status,
    )


@bp.route("/<int:course_id>")
@roles_required(Role.PRACTITIONER, Role.STAFF)
def show_course(course_id: int):
    return _course_page(get_course(course_id, current_user), EnrollForm(formdata=None))


@bp.route("/<int:course_id>/enroll", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def enroll(course_id: int):
    course = get_course(course_id, current_user)
    form = EnrollForm()
    if form.validate_on_submit():
        client = find_client(form.email.data)
        if client is None:
            form.email.errors.append(gettext("No client account has that email."))
        else:
            try:
                order = booking.enroll_client(course, client, paid=form.paid.data)
            except booking.DomainError as error:
                show_domain_error(form, error)
            else:
                flash(
                    ngettext(
                        "%(name)s is enrolled in %(num)d session (order %(status)s).",
                        "%(name)s is enrolled in %(num)d sessions (order %(status)s).",
                        len(order.bookings),
                        name=client.name,
                        status=order.status.label,
                    ),
                    "success",
                )
                return redirect(url_for("courses.show_course", course_id=course.id))
    return _course_page(course, form, status=422)
