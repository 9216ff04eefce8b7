from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ... import booking
from ...models import TAG_MAX, BillingPeriod
from ...web.forms import SelectChoice, ServiceFields

PLAN_LIMIT = 1000


class PlanForm(ServiceFields):
    """A membership plan: its price per period, and what each period grants."""

    period = SelectField(
        lazy_gettext("Billed every"),
        choices=[SelectChoice(p.value, p.label) for p in BillingPeriod],
        default=BillingPeriod.MONTH.value,
    )
    credits = IntegerField(
        lazy_gettext("Classes per period"),
        default=8,
        validators=[InputRequired(), NumberRange(1, PLAN_LIMIT)],
    )
    unlimited = BooleanField(
        lazy_gettext("Unlimited classes"),
        description=lazy_gettext("Only the limits per day and per week below apply."),
    )
    rollover_periods = IntegerField(
        lazy_gettext("Unused classes roll over for (periods)"),
        default=0,
        validators=[InputRequired(), NumberRange(0, 12)],
        description=lazy_gettext("0: unused classes expire at the end of their period."),
    )
    minimum_periods = IntegerField(
        lazy_gettext("Minimum term (periods)"),
        default=1,
        validators=[InputRequired(), NumberRange(1, 36)],
    )
    notice_days = IntegerField(
        lazy_gettext("Cancellation notice (days)"),
        default=0,
        validators=[InputRequired(), NumberRange(0, 90)],
        description=lazy_gettext(
            "A cancel asked later than this before a renewal takes effect a period later."
        ),
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
    )
    per_day = IntegerField(
        lazy_gettext("At most per day"), validators=[Optional(), NumberRange(1, PLAN_LIMIT)]
    )
    per_week = IntegerField(
        lazy_gettext("At most per week"), validators=[Optional(), NumberRange(1, PLAN_LIMIT)]
    )
    # A plan has no time, seats or booking fees of its own: the classes it is spent on have.
    duration_minutes = None
    max_participants = None
    cancellation_cutoff_hours = None
    show_seats_left = None

    def pass_terms(self) -> booking.PassTerms:
        return booking.PassTerms(
            credits=self.credits.data,
            service_ids=list(self.services.data or []),
            tag=self.tag.data or None,
            per_day=self.per_day.data,
            per_week=self.per_week.data,
        )

    def plan_terms(self) -> booking.PlanTerms:
        return booking.PlanTerms(
            period=BillingPeriod(self.period.data),
            unlimited=self.unlimited.data,
            rollover_periods=self.rollover_periods.data,
            minimum_periods=self.minimum_periods.data,
            notice_days=self.notice_days.data,
        )


class SubscribeForm(FlaskForm):
    """The Subscribe button (its CSRF token only)."""


class ChangePlanForm(FlaskForm):
    plan_id = SelectField(lazy_gettext("Another plan"), coerce=int, validate_choice=True)
