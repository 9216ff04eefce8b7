from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange


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
