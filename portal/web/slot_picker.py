"""The slot picker shared by buying a 1-on-1, scheduling a credit and rescheduling: a month
overview with the days that have free times marked, "next available", a date field, and the
chosen day's times.

Days are the viewer's local days; the slots come from booking.available_slots, asked once for
the whole bookable range (today to the horizon) so the overview and the day agree.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, ValidationError

from .. import booking
from ..booking import policy_for
from ..database import utcnow
from ..models import Service, User
from .localtime import zone_in_address


@dataclass
class SlotPicker:
    day: date
    zone: ZoneInfo
    slots: list[datetime]
    prev_day: date | None
    next_day: date | None
    today: date
    last_day: date  # the booking horizon, in the viewer's zone
    free_days: set[date]
    next_free_day: date | None
    # A day asked for past the horizon: said so, and the last bookable day shown instead.
    past_horizon: date | None
    # The GET page that shows a day (endpoint + its view args) and the POST that books a slot.
    page_endpoint: str
    page_args: dict = field(default_factory=dict)
    action: str = ""
    # A visitor's pick is a GET to the confirm page (sign-in comes first); a client's a POST.
    method: str = "post"

    def month_weeks(self) -> list[list[date | None]]:
        """The chosen day's month as weeks (Monday first), None outside the month."""
        weeks = calendar.Calendar().monthdatescalendar(self.day.year, self.day.month)
        return [[d if d.month == self.day.month else None for d in week] for week in weeks]

    @property
    def prev_month(self) -> date | None:
        first = self.day.replace(day=1)
        return max(first - timedelta(days=1), self.today) if first > self.today else None

    @property
    def next_month(self) -> date | None:
        following = (self.day.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following if following <= self.last_day else None


def _parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def build_picker(
    practitioner: User,
    service: Service,
    viewer_zone: ZoneInfo,
    requested_day: str | None,
    *,
    page_endpoint: str,
    page_args: dict,
    action: str,
    method: str = "post",
    now: datetime | None = None,
) -> SlotPicker:
    now = now or utcnow()
    today = now.astimezone(viewer_zone).date()
    last = (
        (now + timedelta(days=policy_for(practitioner.id, service).horizon_days))
        .astimezone(viewer_zone)
        .date()
    )
    asked = _parse_day(requested_day)
    day = min(max(asked or today, today), last)
    every_slot = booking.available_slots(
        practitioner,
        timedelta(minutes=service.duration_minutes),
        _local_midnight(today, viewer_zone),
        _local_midnight(last + timedelta(days=1), viewer_zone),
        now=now,
        service=service,
    )
    free_days = {slot.astimezone(viewer_zone).date() for slot in every_slot}
    return SlotPicker(
        day=day,
        zone=viewer_zone,
        slots=[slot for slot in every_slot if slot.astimezone(viewer_zone).date() == day],
        prev_day=day - timedelta(days=1) if day > today else None,
        next_day=day + timedelta(days=1) if day < last else None,
        today=today,
        last_day=last,
        free_days=free_days,
        next_free_day=min(free_days, default=None),
        past_horizon=asked if asked is not None and asked > last else None,
        page_endpoint=page_endpoint,
        # An embedded page's zone is in its address: the month and day links keep it.
        page_args=page_args | zone_in_address(),
        action=action,
        method=method,
    )


class SlotForm(FlaskForm):
    """One slot button: the chosen start as an ISO instant with its offset."""

    start = HiddenField(
        lazy_gettext("Start"), validators=[DataRequired(message=lazy_gettext("Pick a time."))]
    )
    day = HiddenField(lazy_gettext("Day"))

    def validate_start(self, field):
        try:
            moment = datetime.fromisoformat(field.data)
        except (TypeError, ValueError):
            raise ValidationError(
                gettext("That is not a time we offered; pick one of the slots.")
            ) from None
        if moment.tzinfo is None:
            raise ValidationError(gettext("That is not a time we offered; pick one of the slots."))
        try:
            self.start_time = moment.astimezone(UTC)
        except OverflowError:  # near year 1 or 9999 the UTC instant does not exist
            raise ValidationError(
                gettext("That is not a time we offered; pick one of the slots.")
            ) from None
