from flask_babel import lazy_gettext
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
    service = SelectField(lazy_gettext("Service"), coerce=int, validators=[InputRequired()])
    title = StringField(lazy_gettext("Title (optional)"), validators=[Optional(), Length(max=200)])
    start_date = DateField(lazy_gettext("Date"), validators=[DataRequired()])
    start_time = TimeField(lazy_gettext("Start time"), validators=[DataRequired()])
    # Left blank, both keep the service's (new) or the session's (edit) current value.
    duration = IntegerField(
        lazy_gettext("Duration (minutes)"), validators=[Optional(), NumberRange(min=5, max=24 * 60)]
    )
    max_participants = IntegerField(
        lazy_gettext("Capacity (seats)"), validators=[Optional(), NumberRange(min=1, max=1000)]
    )


class CancelSessionForm(FlaskForm):
    reason = StringField(
        lazy_gettext("Reason (optional)"), validators=[Optional(), Length(max=200)]
    )


class AddClientForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Client email"), validators=[DataRequired(), Email(), Length(max=254)]
    )


class RemoveClientForm(FlaskForm):
    """The booking is named in the URL; past the cut-off the practitioner says whether the
    client asked to cancel (their late cancel) or is being removed (not the client's doing)."""

    client_requested = BooleanField(lazy_gettext("The client asked to cancel"))
