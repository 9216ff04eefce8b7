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
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ...booking import MAX_YEAR, MIN_YEAR
from ...money import SMALLEST_AMOUNT, amount_problem, from_minor, to_minor


class MarkPaidForm(FlaskForm):
    reference = StringField(
        lazy_gettext("Payment reference"),
        validators=[
            Length(max=120, message=lazy_gettext("Keep the reference under 120 characters."))
        ],
    )


class RefundForm(FlaskForm):
    """A refund of an order, in the order's currency (whose decimals the amount may have)."""

    amount = DecimalField(
        lazy_gettext("Amount to refund"),
        places=None,
        validators=[InputRequired(), NumberRange(min=SMALLEST_AMOUNT, max=1_000_000)],
    )
    reason = StringField(
        lazy_gettext("Reason"),
        validators=[DataRequired(), Length(max=200)],
    )
    manual = BooleanField(
        lazy_gettext("I gave the money back myself (cash or transfer)"),
        description=lazy_gettext("Otherwise a card payment is refunded to the card."),
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def show_amount(self, minor: int) -> None:
        self.amount.data = from_minor(minor, self.currency)

    def validate_amount(self, field: DecimalField) -> None:
        problem = amount_problem(field.data, self.currency)
        if problem:
            raise ValidationError(problem)

    def amount_minor(self) -> int:
        return to_minor(self.amount.data, self.currency)


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
