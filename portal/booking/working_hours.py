"""Writing a practitioner's availability: weekly hours, date overrides, booking policy."""

from __future__ import annotations

from datetime import date, time

from flask_babel import gettext
from sqlalchemy import delete

from ..core.errors import InvalidInput
from ..core.transactions import unit_of_work
from ..extensions import db
from ..models import DateOverride, ScheduleSettings, User, WeeklyHours

TimeRange = tuple[time, time]


def check_ranges(ranges: list[TimeRange], field: str) -> list[TimeRange]:
    """Ranges in order, each ending after it starts, none overlapping another."""
    ordered = sorted(ranges)
    for start, end in ordered:
        if end <= start:
            raise InvalidInput(
                gettext("%(range)s ends before it starts.", range=f"{start:%H:%M}-{end:%H:%M}"),
                field=field,
            )
    for (_, end), (next_start, next_end) in zip(ordered, ordered[1:], strict=False):
        if next_start < end:
            # Ranges are typed as HH:MM-HH:MM, so the message names them the same way.
            raise InvalidInput(
                gettext(
                    "%(range)s overlaps the range before it.",
                    range=f"{next_start:%H:%M}-{next_end:%H:%M}",
                ),
                field=field,
            )
    return ordered


@unit_of_work
def set_weekly_hours(practitioner: User, hours: dict[int, list[TimeRange]]) -> None:
    """Replace the whole week: weekday (0 = Monday) -> working ranges; missing days are off."""
    checked = {day: check_ranges(ranges, f"day_{day}") for day, ranges in hours.items()}
    if any(day not in range(7) for day in checked):
        raise InvalidInput(gettext("Weekdays run from 0 (Monday) to 6 (Sunday)."))
    db.session.execute(delete(WeeklyHours).where(WeeklyHours.practitioner_id == practitioner.id))
    db.session.add_all(
        WeeklyHours(practitioner_id=practitioner.id, weekday=day, start_time=s, end_time=e)
        for day, ranges in sorted(checked.items())
        for s, e in ranges
    )
    db.session.flush()


@unit_of_work
def set_date_override(practitioner: User, day: date, ranges: list[TimeRange]) -> None:
    """That date follows these ranges instead of the weekly hours; no ranges = day off."""
    checked = check_ranges(ranges, "ranges")
    remove_date_override(practitioner, day)
    if not checked:
        db.session.add(DateOverride(practitioner_id=practitioner.id, day=day))
    db.session.add_all(
        DateOverride(practitioner_id=practitioner.id, day=day, start_time=s, end_time=e)
        for s, e in checked
    )
    db.session.flush()


@unit_of_work
def remove_date_override(practitioner: User, day: date) -> None:
    db.session.execute(
        delete(DateOverride).where(
            DateOverride.practitioner_id == practitioner.id, DateOverride.day == day
        )
    )


POLICY_LIMITS = {
    "buffer_minutes": (0, 24 * 60),
    "min_notice_minutes": (0, 90 * 24 * 60),
    "horizon_days": (1, 730),
    "slot_step_minutes": (5, 24 * 60),
}


@unit_of_work
def update_schedule_settings(practitioner: User, **policy: int) -> ScheduleSettings:
    for key, value in policy.items():
        low, high = POLICY_LIMITS[key]
        if not low <= value <= high:
            raise InvalidInput(
                gettext("Must be between %(low)s and %(high)s.", low=low, high=high), field=key
            )
    settings = db.session.get(ScheduleSettings, practitioner.id)
    if settings is None:
        settings = ScheduleSettings(practitioner_id=practitioner.id)
        db.session.add(settings)
    for key, value in policy.items():
        setattr(settings, key, value)
    db.session.flush()
    return settings
