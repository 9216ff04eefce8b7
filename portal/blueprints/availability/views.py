from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from ... import booking
from ...booking import settings_for
from ...database import utcnow
from ...extensions import db
from ...models import DateOverride, Role, Service, ServiceType, WeeklyHours
from ...web import local_time, roles_required, show_domain_error
from . import bp
from .forms import (
    OverrideForm,
    RemoveOverrideForm,
    SettingsForm,
    WeeklyHoursForm,
    format_ranges,
)

PREVIEW_DAYS = 14
PREVIEW_LIMIT = 24


def _weekly_form(hours) -> WeeklyHoursForm:
    form = WeeklyHoursForm()
    if not form.is_submitted():
        for field in form.day_fields():
            day = int(field.name.removeprefix("day_"))
            field.data = format_ranges(
                (h.start_time, h.end_time) for h in hours if h.weekday == day
            )
    return form


def _preview(duration_minutes: int):
    now = utcnow()
    slots = booking.available_slots(
        current_user, timedelta(minutes=duration_minutes), now, now + timedelta(days=PREVIEW_DAYS)
    )
    return slots[:PREVIEW_LIMIT]


def _page(weekly=None, override=None, settings_form=None, status=200):
    hours = db.session.scalars(
        select(WeeklyHours)
        .where(WeeklyHours.practitioner_id == current_user.id)
        .order_by(WeeklyHours.weekday, WeeklyHours.start_time)
    ).all()
    overrides = db.session.scalars(
        select(DateOverride)
        .where(
            DateOverride.practitioner_id == current_user.id,
            DateOverride.day >= utcnow().astimezone(current_user.zone).date(),
        )
        .order_by(DateOverride.day, DateOverride.start_time)
    ).all()
    by_day: dict = {}
    for row in overrides:
        by_day.setdefault(row.day, []).extend(
            [(row.start_time, row.end_time)] if row.start_time else []
        )
    settings = settings_for(current_user.id)
    if settings_form is None:
        settings_form = SettingsForm(obj=settings, formdata=None)
    durations = sorted(
        set(
            db.session.scalars(
                select(Service.duration_minutes).where(
                    Service.primary_practitioner_id == current_user.id,
                    Service.service_type == ServiceType.INDIVIDUAL,
                    Service.is_active.is_(True),
                )
            )
        )
        or {60}
    )
    duration = request.args.get("duration", type=int)
    duration = duration if duration in durations else durations[0]
    return (
        render_template(
            "availability/edit.html",
            weekly_form=weekly or _weekly_form(hours),
            override_form=override or OverrideForm(formdata=None),
            settings_form=settings_form,
            remove_form=RemoveOverrideForm(formdata=None),
            overrides=sorted(by_day.items()),
            format_ranges=format_ranges,
            durations=durations,
            duration=duration,
            slots=_preview(duration),
        ),
        status,
    )


@bp.route("/")
@roles_required(Role.PRACTITIONER)
def edit_availability():
    return _page()


def _done(message: str):
    flash(message, "success")
    return redirect(url_for("availability.edit_availability"))


@bp.route("/weekly", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def save_weekly_hours():
    form = WeeklyHoursForm()
    if form.validate_on_submit():
        hours = {n: field.ranges for n, field in enumerate(form.day_fields())}
        try:
            booking.set_weekly_hours(current_user, hours)
        except booking.DomainError as error:
            show_domain_error(form, error)
        else:
            return _done("Your weekly hours are saved.")
    return _page(weekly=form, status=422)


@bp.route("/overrides", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def save_override():
    form = OverrideForm()
    if form.validate_on_submit():
        try:
            booking.set_date_override(current_user, form.day.data, form.ranges.ranges)
        except booking.DomainError as error:
            show_domain_error(form, error)
        else:
            kind = "different hours" if form.ranges.ranges else "a day off"
            return _done(f"{local_time(form.day.data, 'weekday-date')} is now {kind}.")
    return _page(override=form, status=422)


@bp.route("/overrides/remove", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def remove_override():
    form = RemoveOverrideForm()
    if form.validate_on_submit():
        booking.remove_date_override(current_user, form.day.data)
        day = local_time(form.day.data, "weekday-date")
        return _done(f"{day} follows your weekly hours again.")
    flash(gettext("That date could not be read."), "error")
    return redirect(url_for("availability.edit_availability"))


@bp.route("/settings", methods=["POST"])
@roles_required(Role.PRACTITIONER)
def save_settings():
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            booking.update_schedule_settings(
                current_user,
                buffer_minutes=form.buffer_minutes.data,
                min_notice_minutes=form.min_notice_minutes.data,
                horizon_days=form.horizon_days.data,
                slot_step_minutes=form.slot_step_minutes.data,
            )
        except booking.DomainError as error:
            show_domain_error(form, error)
        else:
            return _done("Your booking rules are saved.")
    return _page(settings_form=form, status=422)
