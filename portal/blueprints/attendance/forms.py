from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...booking import MAX_RANGE, MAX_YEAR, MIN_YEAR, SORT_KEYS
from ...models import AttendanceStatus


class ReportFilterForm(FlaskForm):
    """GET filters of the no-show report; kept in the URL, so no CSRF token."""

    class Meta:
        csrf = False

    start = DateField(lazy_gettext("From"), validators=[Optional()])
    end = DateField(lazy_gettext("To"), validators=[Optional()])
    practitioner = SelectField(lazy_gettext("Practitioner"), coerce=int, default=0)
    service = SelectField(lazy_gettext("Service"), coerce=int, default=0)
    sort = HiddenField(default="no_shows")
    dir = HiddenField(default="desc")
    submit = SubmitField(lazy_gettext("Show"))

    def validate_start(self, field):
        _within_years(field)

    def validate_end(self, field):
        _within_years(field)
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(gettext("The end date is before the start date."))
            if field.data - self.start.data > MAX_RANGE:
                raise ValidationError(gettext("Choose a range of at most two years."))

    def validate_sort(self, field):
        if field.data and field.data not in SORT_KEYS:
            raise ValidationError(gettext("Unknown sort column."))

    def validate_dir(self, field):
        if field.data and field.data not in ("asc", "desc"):
            raise ValidationError(gettext("Unknown sort direction."))


def _within_years(field) -> None:
    """Days the report can turn into instants: near year 9999 the day after, or the
    local midnight in UTC, does not exist."""
    if field.data and not MIN_YEAR <= field.data.year <= MAX_YEAR:
        raise ValidationError(
            gettext(
                "Pick a date between %(MIN_YEAR)s and %(MAX_YEAR)s.",
                MIN_YEAR=MIN_YEAR,
                MAX_YEAR=MAX_YEAR,
            )
        )


class OverrideForm(FlaskForm):
    outcome = SelectField(
        lazy_gettext("Outcome"),
        choices=[SelectChoice(s.value, s.label) for s in AttendanceStatus],
        validators=[DataRequired()],
    )
    reason = StringField(lazy_gettext("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(lazy_gettext("Save"))
