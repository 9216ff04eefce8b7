from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ...booking import MAX_YEAR, MIN_YEAR


class MarkPaidForm(FlaskForm):
    reference = StringField(
        lazy_gettext("Payment reference"),
        validators=[
            Length(max=120, message=lazy_gettext("Keep the reference under 120 characters."))
        ],
    )


class RefundForm(FlaskForm):
    amount = DecimalField(
        lazy_gettext("Amount to refund"),
        places=2,
        validators=[InputRequired(), NumberRange(min=0.01, max=1_000_000)],
    )
    reason = StringField(
        lazy_gettext("Reason"),
        validators=[DataRequired(), Length(max=200)],
    )
    manual = BooleanField(
        lazy_gettext("I gave the money back myself (cash or transfer)"),
        description=lazy_gettext("Otherwise a card payment is refunded to the card."),
    )

    def amount_cents(self) -> int:
        return int((self.amount.data * 100).to_integral_value())


class WaiveFeeForm(FlaskForm):
    reason = StringField(lazy_gettext("Why waive it"), validators=[Length(max=200)])


class SeatRefundForm(RefundForm):
    """Chosen seats canceled and their price refunded: the amount is theirs, not typed."""

    amount = None
    seats = SelectMultipleField(
        lazy_gettext("Seats to cancel and refund"),
        coerce=int,
        validators=[DataRequired(message=lazy_gettext("Choose at least one seat."))],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )


class RevenueFilterForm(FlaskForm):
    """GET filters of the revenue report; kept in the URL, so no CSRF token."""

    class Meta:
        csrf = False

    year = IntegerField(
        lazy_gettext("Year"), validators=[Optional(), NumberRange(min=MIN_YEAR, max=MAX_YEAR)]
    )
    practitioner = SelectField(lazy_gettext("Practitioner"), coerce=int, default=0)
