import math

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField, ValidationError

from ...notifications.preferences import MAX_OFFSET_MINUTES, MAX_OFFSETS


def parse_hours(text: str) -> list[int]:
    """'24, 1' or '1.5' → minutes before the session."""
    minutes = []
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            hours = float(part)
        except ValueError:
            hours = math.nan
        # float() also reads "nan", "inf" and 1e308 (infinite once in minutes).
        if not math.isfinite(hours * 60):
            raise ValidationError(gettext("“%(part)s” is not a number of hours.", part=part))
        value = round(hours * 60)
        if not 5 <= value <= MAX_OFFSET_MINUTES:
            raise ValidationError(
                gettext("Each reminder must be between 5 minutes and 30 days before.")
            )
        minutes.append(value)
    if len(set(minutes)) > MAX_OFFSETS:
        raise ValidationError(
            gettext("At most %(MAX_OFFSETS)s reminders per session.", MAX_OFFSETS=MAX_OFFSETS)
        )
    return minutes


def format_hours(minutes: list[int]) -> str:
    return ", ".join(f"{m / 60:g}" for m in minutes)


class PreferencesForm(FlaskForm):
    reminders = BooleanField(lazy_gettext("Reminders before my sessions"))
    practitioner_notices = BooleanField(
        lazy_gettext("A message for each new booking, cancellation and waitlist seat taken")
    )
    daily_agenda = BooleanField(lazy_gettext("My day's sessions each morning"))
    reminder_offsets = StringField(
        lazy_gettext("Remind my clients this many hours before each session"),
        description=lazy_gettext("Comma-separated, e.g. “24, 1”. Leave empty for no reminders."),
    )
    submit = SubmitField(lazy_gettext("Save"))

    def validate_reminder_offsets(self, field):
        field.minutes = parse_hours(field.data or "")
