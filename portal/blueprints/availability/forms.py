import re
from datetime import time

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange, ValidationError

from ...booking import POLICY_LIMITS

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def parse_ranges(text: str) -> list[tuple[time, time]]:
    """'09:00-12:00, 13:00-17:30' -> time pairs; '24:00' closes a day at midnight's last minute."""
    ranges = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        match = _RANGE.match(part)
        if not match:
            raise ValidationError(gettext("“%(part)s” is not a range like 09:00-12:00.", part=part))
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if (h2, m2) == (24, 0):
            h2, m2 = 23, 59
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValidationError(gettext("“%(part)s” is not a time of day.", part=part))
        ranges.append((time(h1, m1), time(h2, m2)))
    return ranges


class RangesField(StringField):
    """Text in, a list of (start, end) times out (in .ranges once validated)."""

    ranges: tuple = ()

    def pre_validate(self, form):
        self.ranges = parse_ranges(self.data)


def format_ranges(ranges) -> str:
    return ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in ranges)


class WeeklyHoursForm(FlaskForm):
    day_0 = RangesField(WEEKDAYS[0])
    day_1 = RangesField(WEEKDAYS[1])
    day_2 = RangesField(WEEKDAYS[2])
    day_3 = RangesField(WEEKDAYS[3])
    day_4 = RangesField(WEEKDAYS[4])
    day_5 = RangesField(WEEKDAYS[5])
    day_6 = RangesField(WEEKDAYS[6])

    def day_fields(self):
        return [getattr(self, f"day_{n}") for n in range(7)]


class OverrideForm(FlaskForm):
    day = DateField(lazy_gettext("Date"), validators=[DataRequired()])
    ranges = RangesField(lazy_gettext("Hours that day (empty = day off)"))


class RemoveOverrideForm(FlaskForm):
    day = DateField(lazy_gettext("Date"), validators=[DataRequired()])


def _policy_field(label, key: str) -> IntegerField:
    low, high = POLICY_LIMITS[key]
    return IntegerField(label, validators=[InputRequired(), NumberRange(low, high)])


class SettingsForm(FlaskForm):
    buffer_minutes = _policy_field(
        lazy_gettext("Buffer between sessions (minutes)"), "buffer_minutes"
    )
    min_notice_minutes = _policy_field(
        lazy_gettext("Minimum notice (minutes)"), "min_notice_minutes"
    )
    horizon_days = _policy_field(lazy_gettext("Booking horizon (days ahead)"), "horizon_days")
    slot_step_minutes = _policy_field(
        lazy_gettext("Offer a start every (minutes)"), "slot_step_minutes"
    )
