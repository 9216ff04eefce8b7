from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectMultipleField, StringField, widgets
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ...models import TAG_MAX
from ...web.forms import ServiceFields

PASS_LIMIT = 1000


class PassForm(ServiceFields):
    """A class pass: its price and payment terms like any service, and what it grants."""

    credits = IntegerField(
        lazy_gettext("Credits (classes)"),
        default=10,
        validators=[InputRequired(), NumberRange(1, PASS_LIMIT)],
    )
    validity_days = IntegerField(
        lazy_gettext("Valid for (days)"),
        validators=[Optional(), NumberRange(1, 3650)],
        description=lazy_gettext("Empty: the credits do not expire."),
    )
    services = SelectMultipleField(
        lazy_gettext("Workshops it is for"),
        coerce=int,
        validate_choice=False,
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )
    tag = StringField(
        lazy_gettext("…or any workshop tagged"),
        validators=[Optional(), Length(max=TAG_MAX)],
        description=lazy_gettext("For example “group class”: every workshop with this tag."),
    )
    per_day = IntegerField(
        lazy_gettext("At most per day"), validators=[Optional(), NumberRange(1, PASS_LIMIT)]
    )
    per_week = IntegerField(
        lazy_gettext("At most per week"), validators=[Optional(), NumberRange(1, PASS_LIMIT)]
    )
    # A pass has no time or seats of its own: the classes it is spent on have them.
    duration_minutes = None
    max_participants = None
    cancellation_cutoff_hours = None
    show_seats_left = None


class PassSeatForm(FlaskForm):
    """One "Book with this pass" button: the session it is for."""

    session_id = IntegerField(validators=[InputRequired(), NumberRange(1, 2**31 - 1)])
