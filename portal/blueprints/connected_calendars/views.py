from flask import abort, current_app, flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user

from ...extensions import db
from ...external_calendars import connections, sync, writes
from ...external_calendars.fetch import FetchFailed, discover_caldav, http_url
from ...models import CalendarKind, ExternalCalendar, Role
from ...web import confirm_page, is_confirmed, render_page
from ...web.auth import roles_required
from . import bp
from .forms import CaldavAccountForm, CalendarActionForm, CalendarSettingsForm, IcsCalendarForm


def _own_calendar(calendar_id: int) -> ExternalCalendar:
    """A practitioner's calendars are theirs alone: anyone else's does not exist for you."""
    calendar = db.session.get(ExternalCalendar, calendar_id)
    if calendar is None or calendar.practitioner_id != current_user.id:
        abort(404)
    return calendar


def _render(ics_form=None, caldav_form=None, status=200):
    calendars = connections.calendars_of(current_user)
    response = render_page(
        "connected_calendars/index.html",
        "connected_calendars/_calendars.html",
        calendars=calendars,
        write_status=writes.write_status([c.id for c in calendars]),
        settings_forms={
            c.id: CalendarSettingsForm(formdata=None, obj=c, prefix=f"c{c.id}") for c in calendars
        },
        ics_form=ics_form or IcsCalendarForm(formdata=None),
        caldav_form=caldav_form or CaldavAccountForm(formdata=None),
        action_form=CalendarActionForm(),
        CalendarKind=CalendarKind,
    )
    # The forms may carry an address or a user name just typed: no cache keeps them.
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/")
@roles_required(Role.PRACTITIONER)
def list_calendars():
    return _render()


@bp.route("/ics", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def add_ics_calendar():
    form = IcsCalendarForm()
    if not form.validate_on_submit():
        return _render(ics_form=form, status=422)
    name = form.name.data or gettext("Subscribed calendar")
    connections.add_ics_calendar(current_user, name, form.url.data)
    flash(gettext("Calendar added: its busy times are read within a minute."), "success")
    return redirect(url_for("connected_calendars.list_calendars"))


@bp.route("/caldav", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def add_caldav_account():
    form = CaldavAccountForm()
    if not form.validate_on_submit():
        return _render(caldav_form=form, status=422)
    try:
        found = discover_caldav(
            http_url(form.server_url.data),
            form.username.data,
            form.password.data,
            timeout=current_app.config["PORTAL_CALENDAR_FETCH_TIMEOUT_SECONDS"],
        )
    except FetchFailed as failure:
        form.server_url.errors.append(failure.problem.label)
        return _render(caldav_form=form, status=422)
    if not found:
        form.server_url.errors.append(gettext("That account has no calendars."))
        return _render(caldav_form=form, status=422)
    connections.add_caldav_calendars(current_user, form.username.data, form.password.data, found)
    flash(
        gettext(
            "Connected %(count)d calendar(s). Choose below which block your slots and which "
            "one receives your sessions.",
            count=len(found),
        ),
        "success",
    )
    return redirect(url_for("connected_calendars.list_calendars"))


@bp.route("/<int:calendar_id>", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def update_calendar(calendar_id: int):
    calendar = _own_calendar(calendar_id)
    form = CalendarSettingsForm(prefix=f"c{calendar.id}")
    if form.validate_on_submit():
        connections.update_calendar(
            calendar,
            blocks_time=form.blocks_time.data,
            receives_bookings=form.receives_bookings.data,
            share_attendee_names=form.share_attendee_names.data,
        )
        flash(gettext("Saved."), "success")
    return redirect(url_for("connected_calendars.list_calendars"))


@bp.route("/<int:calendar_id>/refresh", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def refresh_calendar(calendar_id: int):
    calendar = _own_calendar(calendar_id)
    if CalendarActionForm().validate_on_submit():
        sync.request_refresh(calendar)
        flash(gettext("The calendar will be read again within a minute."), "success")
    return redirect(url_for("connected_calendars.list_calendars"))


@bp.route("/<int:calendar_id>/disconnect", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def disconnect_calendar(calendar_id: int):
    calendar = _own_calendar(calendar_id)
    if CalendarActionForm().validate_on_submit():
        if not is_confirmed():
            return confirm_page(
                question=gettext("Disconnect %(name)s?", name=calendar.name),
                consequence=gettext(
                    "Its password and its busy times are deleted; its events stop blocking "
                    "your slots."
                ),
                button=gettext("Disconnect"),
                back=url_for("connected_calendars.list_calendars"),
            )
        name = calendar.name
        connections.disconnect(calendar)
        flash(gettext("%(name)s disconnected; its busy times are gone.", name=name), "success")
    return redirect(url_for("connected_calendars.list_calendars"))
