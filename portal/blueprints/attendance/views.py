"""Attendance and reports for staff (every practitioner) and practitioners (their own)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms import SelectChoice

from ... import booking
from ...accounts import practitioners
from ...booking import DomainError, can_override
from ...models import Role, SessionStatus
from ...web import flash_domain_error, render_page, roles_required
from ...web.access import get_booking, get_course, get_session
from ...web.spreadsheet import csv_response
from . import bp
from .charts import weekly_chart
from .forms import OverrideForm, ReportFilterForm
from .queries import courses_with_counts, recent_sessions, report_services

STAFF_OR_PRACTITIONER = (Role.STAFF, Role.PRACTITIONER)
DEFAULT_WEEKS = 12


@bp.before_request
def _apply_room_events():
    # Every page here reads attendance: events the webhook stored and the worker has
    # not applied yet count first, so no page shows a room older than its events.
    booking.apply_room_events()


def _own_only() -> bool:
    return current_user.role == Role.PRACTITIONER


@bp.route("/")
@roles_required(*STAFF_OR_PRACTITIONER)
def index():
    practitioner_id = current_user.id if _own_only() else None
    sessions = recent_sessions(practitioner_id)
    return render_page("attendance/index.html", "attendance/_sessions.html", sessions=sessions)


@bp.route("/sessions/<int:session_id>")
@roles_required(*STAFF_OR_PRACTITIONER)
def session_attendance(session_id: int):
    session = get_session(session_id, current_user)
    attendance = booking.session_attendance(session)
    return render_page(
        "attendance/session.html",
        "attendance/_session_clients.html",
        session=session,
        attendance=attendance,
        can_override=can_override(current_user, session)
        and session.status == SessionStatus.COMPLETED,
        form=OverrideForm(),
    )


@bp.route("/bookings/<int:booking_id>/outcome", methods=["POST"])
@roles_required(*STAFF_OR_PRACTITIONER)
def override_outcome(booking_id: int):
    seat = get_booking(booking_id, current_user)
    session = get_session(seat.service_session_id, current_user)
    form = OverrideForm()
    target = url_for(".session_attendance", session_id=session.id, _anchor=f"booking-{seat.id}")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(target)
    try:
        booking.override_outcome(
            seat, form.outcome.data, current_user._get_current_object(), reason=form.reason.data
        )
    except DomainError as error:
        flash_domain_error(error)
    else:
        flash(
            gettext(
                "Attendance of %(user_name)s set to %(outcome)s.",
                user_name=seat.user.name,
                outcome=form.outcome.data.replace("_", " "),
            )
        )
    return redirect(target)


# --- No-show report ----------------------------------------------------------------


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=current_user.zone).astimezone(UTC)


def _offer_choices(form: ReportFilterForm) -> None:
    """A practitioner filters their own services; staff pick any practitioner and service."""
    own = current_user.id if _own_only() else None
    if own is not None:
        form.practitioner.choices = [SelectChoice(0, "All")]
    else:
        form.practitioner.choices = [SelectChoice(0, "All practitioners")] + [
            SelectChoice(p.id, p.name) for p in practitioners()
        ]
    form.service.choices = [SelectChoice(0, "All services")] + [
        SelectChoice(s.id, s.name) for s in report_services(own)
    ]


def _default_range(form: ReportFilterForm) -> None:
    """Dates left out (not mistyped) default to the last DEFAULT_WEEKS weeks up to today."""
    if form.end.data is None and not form.end.errors:
        form.end.data = datetime.now(current_user.zone).date()
    if form.start.data is None and not form.start.errors:
        form.start.data = form.end.data - timedelta(weeks=DEFAULT_WEEKS) + timedelta(days=1)


def _filters(form: ReportFilterForm) -> booking.ReportFilters:
    """The form's local days as UTC instants, scoped to the viewer."""
    return booking.ReportFilters(
        start=_local_midnight(form.start.data),
        end=_local_midnight(form.end.data + timedelta(days=1)),
        practitioner_id=current_user.id if _own_only() else (form.practitioner.data or None),
        service_id=form.service.data or None,
        sort=form.sort.data or "no_shows",
        descending=(form.dir.data or "desc") == "desc",
    )


def _report_form() -> tuple[ReportFilterForm, booking.ReportFilters | None]:
    """The filter form (choices scoped to the viewer) and, when valid, the report filters."""
    form = ReportFilterForm(formdata=request.args or None)
    _offer_choices(form)
    _default_range(form)
    if request.args and not form.validate():
        return form, None
    return form, _filters(form)


def _filter_args(form: ReportFilterForm, **changes) -> dict:
    args = {
        "start": form.start.data.isoformat() if form.start.data else None,
        "end": form.end.data.isoformat() if form.end.data else None,
        "practitioner": form.practitioner.data or None,
        "service": form.service.data or None,
        "sort": form.sort.data or "no_shows",
        "dir": form.dir.data or "desc",
    }
    args.update(changes)
    return {k: v for k, v in args.items() if v is not None}


@bp.route("/reports/no-shows")
@roles_required(*STAFF_OR_PRACTITIONER)
def noshow_report():
    form, filters = _report_form()
    report = booking.noshow_report(filters) if filters else None
    return render_page(
        "attendance/noshow_report.html",
        "attendance/_noshow_report.html",
        form=form,
        report=report,
        chart=weekly_chart(report.weekly) if report else None,
        filter_args=lambda **changes: _filter_args(form, **changes),
    )


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}"


@bp.route("/reports/no-shows.csv")
@roles_required(*STAFF_OR_PRACTITIONER)
def noshow_report_csv():
    form, filters = _report_form()
    if filters is None:
        abort(400, gettext("The report filters are not valid."))
    per = request.args.get("per", "client")
    if per not in ("client", "service"):
        abort(400, gettext("per must be client or service."))
    rows = (booking.rows_by_client if per == "client" else booking.rows_by_service)(filters)
    header = [per, "email" if per == "client" else "practitioner"]
    header += ["booked", "attended", "no_shows", "no_show_rate_percent", "late_cancels"]
    if per == "client":
        header.append("repeat_no_show")

    def line(r: booking.ReportRow) -> list:
        cells = [r.name, r.detail, r.booked, r.attended, r.no_shows, _percent(r.rate)]
        cells.append(r.late_cancels)
        if per == "client":
            cells.append("yes" if r.repeat_no_show else "no")
        return cells

    body = (line(r) for r in rows)
    filename = f"no-shows-by-{per}_{form.start.data}_{form.end.data}.csv"
    return csv_response(filename, header, body)


# --- Course completion -------------------------------------------------------------


@bp.route("/courses")
@roles_required(*STAFF_OR_PRACTITIONER)
def courses():
    practitioner_id = current_user.id if _own_only() else None
    return render_template("attendance/courses.html", courses=courses_with_counts(practitioner_id))


@bp.route("/courses/<int:course_id>")
@roles_required(*STAFF_OR_PRACTITIONER)
def course_completion(course_id: int):
    course = get_course(course_id, current_user)
    return render_page(
        "attendance/course.html",
        "attendance/_course_completion.html",
        course=course,
        rows=booking.course_completion(course),
    )


@bp.route("/courses/<int:course_id>/completion.csv")
@roles_required(*STAFF_OR_PRACTITIONER)
def course_completion_csv(course_id: int):
    course = get_course(course_id, current_user)
    rows = booking.course_completion(course)
    body = (
        [
            r.name,
            r.email,
            r.attended,
            r.completed,
            "" if r.rate is None else f"{r.rate:.1f}",
        ]
        for r in rows
    )
    return csv_response(
        f"course-{course.id}-completion.csv",
        ["client", "email", "attended", "completed_sessions", "completion_percent"],
        body,
    )
