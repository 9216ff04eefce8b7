from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    TimeField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange

from ...web.forms import ServiceFields


class CourseForm(ServiceFields):
    """A course's own fields plus the recurrence its sessions are generated from."""

    start_date = DateField("First session date", validators=[DataRequired()])
    start_time = TimeField("Start time", validators=[DataRequired()])
    frequency = SelectField(
        "Repeat", choices=[SelectChoice("weekly", "Weekly"), SelectChoice("daily", "Daily")]
    )
    interval = IntegerField(
        "Every (weeks or days)", default=1, validators=[InputRequired(), NumberRange(1, 52)]
    )
    count = IntegerField(
        "Number of sessions", default=8, validators=[InputRequired(), NumberRange(1, 104)]
    )


class EnrollForm(FlaskForm):
    email = EmailField("Client email", validators=[DataRequired(), Email(), Length(max=254)])
    paid = BooleanField("Payment received (mark the order paid)")
