import json
from datetime import date, datetime

from flask import abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from ... import booking, records
from ...accounts import find_client, practitioners
from ...extensions import db
from ...models import CancelReason, Role, Service, User
from ...web import (
    confirm_page,
    is_confirmed,
    is_htmx,
    page_clock,
    render_page,
    roles_required,
    show_domain_error,
)
from ...web.access import SessionUse, get_calendar_owner, get_session
from . import bp
from .forms import AddClientForm, CancelSessionForm, RemoveClientForm, SessionForm
from .queries import ROSTER_LOADS, calendar_layout, seats_past_cutoff, session_list

VIEWERS = (Role.PRACTITIONER, Role.STAFF)


def _day_arg(zone) -> date:
    try:
        day = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        day = None
    if day is None or not booking.MIN_YEAR <= day.year <= booking.MAX_YEAR:
        return datetime.now(zone).date()
    return day


def _calendar_owner() -> User:
    return get_calendar_owner(current_user, request.args.get("practitioner", type=int))


def _load_session(session_id: int, use: SessionUse = SessionUse.MANAGE):
    """The session with its roster: the practitioner's own; staff read any."""
    return get_session(session_id, current_user, use, loads=ROSTER_LOADS, refresh=True)


def _owner_args(owner: User) -> dict:
    """Staff carry the picked practitioner through every link; practitioners need nothing."""
    return {"practitioner": owner.id} if current_user.is_staff else {}


def _calendar_context(owner: User, view: str, day: date) -> dict:
    return {
        **calendar_layout(owner, view, day),
        "owner": owner,
        # Every session's times are written in the owner's zone, several times each.
        "clock": page_clock(owner.timezone),
        "owner_args": _owner_args(owner),
        "can_edit": current_user.id == owner.id,
        "practitioners": practitioners() if current_user.is_staff else [],
    }


@bp.route("/")
@roles_required(*VIEWERS)
def week():
    owner = _calendar_owner()
    context = _calendar_context(owner, "week", _day_arg(owner.zone))
    return render_page("calendar/index.html", "calendar/_calendar.html", **context)


@bp.route("/day")
@roles_required(*VIEWERS)
def day():
    owner = _calendar_owner()
    context = _calendar_context(owner, "day", _day_arg(owner.zone))
    return render_page("calendar/index.html", "calendar/_calendar.html", **context)


@bp.route("/month")
@roles_required(*VIEWERS)
def month():
    owner = _calendar_owner()
    context = _calendar_context(owner, "month", _day_arg(owner.zone))
    return render_page("calendar/index.html", "calendar/_calendar.html", **context)


@bp.route("/sessions")
@roles_required(*VIEWERS)
def list_sessions():
    owner = _calendar_owner()
    when = "past" if request.args.get("when") == "past" else "upcoming"
    page = min(max(request.args.get("page", 1, type=int), 1), 10_000)
    sessions, more = session_list(owner.id, when, page)
    return render_page(
        "calendar/sessions.html",
        "calendar/_session_list.html",
        owner=owner,
        when=when,
        page_number=page,
        more=more,
        sessions=sessions,
        owner_args=_owner_args(owner),
        practitioners=practitioners() if current_user.is_staff else [],
    )


def _back_to_calendar(session, message: str):
    flash(message, "success")
    local_day = session.start_time.astimezone(session.practitioner.zone).date()
    target = url_for("calendar.week", date=local_day.isoformat())
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Location"] = json.dumps(
            {"path": target, "target": "#calendar", "swap": "outerHTML"}
        )
        return response
    return redirect(target)


def _service_choices() -> list[SelectChoice]:
    services = db.session.scalars(
        select(Service)
        .where(
            Service.primary_practitioner_id == current_user.id,
            Service.is_active.is_(True),
            Service.service_type.in_(booking.CALENDAR_TYPES),
        )
        .order_by(Service.name)
    )
    return [
        SelectChoice(
            s.id,
            ngettext(
                "%(name)s (%(type)s · %(minutes)d min · %(num)d seat)",
                "%(name)s (%(type)s · %(minutes)d min · %(num)d seats)",
                s.max_participants,
                name=s.name,
                type=s.service_type.label,
                minutes=s.duration_minutes,
            ),
        )
        for s in services
    ]


def _form_page(form, **context):
    return render_page(
        "calendar/session_form.html", "calendar/_session_form.html", form=form, **context
    )


@bp.route("/sessions/new", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def new_session():
    form = SessionForm()
    form.service.choices = _service_choices()
    if request.method == "GET":
        form.start_date.data = _day_arg(current_user.zone)
    if form.validate_on_submit():
        service = db.session.get(Service, form.service.data)
        try:
            session = booking.schedule_session(
                service,
                start_time=booking.local_start(
                    form.start_date.data, form.start_time.data, current_user.timezone
                ),
                duration_minutes=form.duration.data or service.duration_minutes,
                max_participants=form.max_participants.data or service.max_participants,
                title=form.title.data or "",
            )
        except booking.DomainError as error:
            show_domain_error(form, error)
        else:
            return _back_to_calendar(session, f"{session.display_title} is on your calendar.")
    return _form_page(form, session=None, cancel_form=None)


def _intake(session) -> dict:
    """Each seat's intake forms, answered or missing: for the session's practitioner only
    (answers are health data; staff see the roster without them)."""
    if session.practitioner_id != current_user.id:
        return {}
    return records.forms_for_bookings(list(session.bookings))


@bp.route("/sessions/<int:session_id>")
@roles_required(*VIEWERS)
def show_session(session_id: int):
    session = _load_session(session_id)
    return render_page(
        "calendar/session.html",
        "calendar/_roster.html",
        session=session,
        can_edit=session.practitioner_id == current_user.id,
        intake=_intake(session),
        add_form=AddClientForm(),
        remove_form=RemoveClientForm(formdata=None),
        past_cutoff=seats_past_cutoff(session),
        cancel_form=CancelSessionForm(),
    )


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def edit_session(session_id: int):
    session = _load_session(session_id, SessionUse.EDIT)
    local = session.start_time.astimezone(session.zone)
    minutes = int((session.end_time - session.start_time).total_seconds() // 60)
    form = SessionForm(
        data={
            "title": session.title,
            "start_date": local.date(),
            "start_time": local.time(),
            "duration": minutes,
            "max_participants": session.max_participants,
        }
    )
    del form.service
    if form.validate_on_submit():
        try:
            booking.update_session(
                session,
                start_time=booking.local_start(
                    form.start_date.data, form.start_time.data, session.timezone
                ),
                duration_minutes=form.duration.data or minutes,
                max_participants=form.max_participants.data or session.max_participants,
                title=form.title.data or "",
            )
        except booking.DomainError as error:
            show_domain_error(form, error)
        else:
            return _back_to_calendar(session, f"{session.display_title} is updated.")
    return _form_page(form, session=session, cancel_form=CancelSessionForm())


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def cancel_session(session_id: int):
    session = _load_session(session_id, SessionUse.EDIT)
    form = CancelSessionForm()
    if not is_confirmed():
        return confirm_page(
            question=ngettext(
                "Cancel %(title)s and its %(num)d booking?",
                "Cancel %(title)s and its %(num)d bookings?",
                session.current_participants,
                title=session.display_title,
            ),
            consequence=gettext(
                "Every client booked is told their booking is canceled; this cannot be undone."
            ),
            button=gettext("Yes, cancel the session"),
            back=url_for("calendar.show_session", session_id=session.id),
        )
    if form.validate_on_submit():
        try:
            count = booking.cancel_session(session, current_user, note=form.reason.data or "")
        except booking.DomainError as error:
            flash(error.message, "error")
            return redirect(url_for("calendar.show_session", session_id=session.id))
        message = ngettext(
            "%(title)s is canceled; %(num)d booking was canceled.",
            "%(title)s is canceled; %(num)d bookings were canceled.",
            count,
            title=session.display_title,
        )
        return _back_to_calendar(session, message)
    flash(gettext("The cancellation could not be read; please try again."), "error")
    return redirect(url_for("calendar.show_session", session_id=session.id))


def _roster(session, add_form=None):
    session = _load_session(session.id)
    return render_page(
        "calendar/session.html",
        "calendar/_roster.html",
        session=session,
        can_edit=True,
        intake=_intake(session),
        add_form=add_form or AddClientForm(formdata=None),
        remove_form=RemoveClientForm(formdata=None),
        past_cutoff=seats_past_cutoff(session),
        cancel_form=CancelSessionForm(),
    )


@bp.route("/sessions/<int:session_id>/attendees", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def add_attendee(session_id: int):
    session = _load_session(session_id, SessionUse.EDIT)
    form = AddClientForm()
    if form.validate_on_submit():
        client = find_client(form.email.data)
        if client is None:
            form.email.errors.append(gettext("No client account has that email."))
        else:
            try:
                booking.add_client_to_session(session, client, current_user)
            except booking.DomainError as error:
                show_domain_error(form, error)
            else:
                flash(gettext("%(client_name)s is added.", client_name=client.name), "success")
                if not is_htmx():
                    return redirect(url_for("calendar.show_session", session_id=session.id))
                form = None
    return _roster(session, form)


@bp.route("/sessions/<int:session_id>/attendees/<int:booking_id>/remove", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def remove_attendee(session_id: int, booking_id: int):
    session = _load_session(session_id, SessionUse.EDIT)
    seat = next((b for b in session.bookings if b.id == booking_id), None)
    if seat is None:
        abort(404)
    form = RemoveClientForm()
    if not is_confirmed():
        late = form.client_requested.data
        return confirm_page(
            question=gettext("Record a late cancel for %(name)s?", name=seat.user.name)
            if late
            else gettext("Remove %(name)s?", name=seat.user.name),
            consequence=gettext(
                "It counts as their late cancel; a package or bundle credit is forfeited."
            )
            if late
            else gettext("Their seat is freed and any package or bundle credit is returned."),
            button=gettext("Yes, late cancel") if late else gettext("Yes, remove them"),
            back=url_for("calendar.show_session", session_id=session.id),
        )
    if form.validate_on_submit():
        client_requested = form.client_requested.data
        try:
            credit = booking.cancel_booking(
                seat,
                current_user,
                reason=CancelReason.AT_CLIENT_REQUEST
                if client_requested
                else CancelReason.REMOVED_BY_PRACTITIONER,
                client_requested=client_requested,
            )
        except booking.DomainError as error:
            flash(error.message, "error")
        else:
            flash(_removed_message(seat.user.name, client_requested, credit), "success")
    if not is_htmx():
        return redirect(url_for("calendar.show_session", session_id=session.id))
    return _roster(session)


def _removed_message(user_name: str, client_requested: bool, credit_returned: bool) -> str:
    # Whole sentences: a translation cannot reorder pieces glued together in English.
    if client_requested and credit_returned:
        text = gettext(
            "%(user_name)s is canceled at their request; their seat is free. "
            "Their credit is returned.",
            user_name=user_name,
        )
    elif client_requested:
        text = gettext(
            "%(user_name)s is canceled at their request; their seat is free.", user_name=user_name
        )
    elif credit_returned:
        text = gettext(
            "%(user_name)s is removed; their seat is free. Their credit is returned.",
            user_name=user_name,
        )
    else:
        text = gettext("%(user_name)s is removed; their seat is free.", user_name=user_name)
    return text
