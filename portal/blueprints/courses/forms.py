from flask_babel import lazy_gettext
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

    start_date = DateField(lazy_gettext("First session date"), validators=[DataRequired()])
    start_time = TimeField(lazy_gettext("Start time"), validators=[DataRequired()])
    frequency = SelectField(
        lazy_gettext("Repeat"),
        choices=[SelectChoice("weekly", "Weekly"), SelectChoice("daily", "Daily")],
    )
    interval = IntegerField(
        lazy_gettext("Every (weeks or days)"),
        default=1,
        validators=[InputRequired(), NumberRange(1, 52)],
    )
    count = IntegerField(
        lazy_gettext("Number of sessions"),
        default=8,
        validators=[InputRequired(), NumberRange(1, 104)],
    )


class EnrollForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Client email"), validators=[DataRequired(), Email(), Length(max=254)]
    )
    paid = BooleanField(lazy_gettext("Payment received (mark the order paid)"))
