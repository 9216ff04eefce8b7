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

from ...booking.reports import MAX_RANGE, SORT_KEYS
from ...models import AttendanceStatus


class ReportFilterForm(FlaskForm):
    """GET filters of the no-show report; kept in the URL, so no CSRF token."""

    class Meta:
        csrf = False

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    practitioner = SelectField("Practitioner", coerce=int, default=0)
    service = SelectField("Service", coerce=int, default=0)
    sort = HiddenField(default="no_shows")
    dir = HiddenField(default="desc")
    submit = SubmitField("Show")

    def validate_end(self, field):
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError("The end date is before the start date.")
            if field.data - self.start.data > MAX_RANGE:
                raise ValidationError("Choose a range of at most two years.")

    def validate_sort(self, field):
        if field.data and field.data not in SORT_KEYS:
            raise ValidationError("Unknown sort column.")

    def validate_dir(self, field):
        if field.data and field.data not in ("asc", "desc"):
            raise ValidationError("Unknown sort direction.")


class OverrideForm(FlaskForm):
    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice(s.value, s.label) for s in AttendanceStatus],
        validators=[DataRequired()],
    )
    reason = StringField("Reason", validators=[DataRequired(), Length(max=500)])
    submit = SubmitField("Save")
