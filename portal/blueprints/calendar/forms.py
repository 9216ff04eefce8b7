from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional


class SessionForm(FlaskForm):
    service = SelectField("Service", coerce=int, validators=[InputRequired()])
    title = StringField("Title (optional)", validators=[Optional(), Length(max=200)])
    start_date = DateField("Date", validators=[DataRequired()])
    start_time = TimeField("Start time", validators=[DataRequired()])
    # Left blank, both keep the service's (new) or the session's (edit) current value.
    duration = IntegerField(
        "Duration (minutes)", validators=[Optional(), NumberRange(min=5, max=24 * 60)]
    )
    max_participants = IntegerField(
        "Capacity (seats)", validators=[Optional(), NumberRange(min=1, max=1000)]
    )


class CancelSessionForm(FlaskForm):
    reason = StringField("Reason (optional)", validators=[Optional(), Length(max=200)])


class AddClientForm(FlaskForm):
    email = EmailField("Client email", validators=[DataRequired(), Email(), Length(max=254)])


class RemoveClientForm(FlaskForm):
    """The booking is named in the URL; past the cut-off the practitioner says whether the
    client asked to cancel (their late cancel) or is being removed (not the client's doing)."""

    client_requested = BooleanField("The client asked to cancel")
