"""Form pieces more than one blueprint uses."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ..booking import DomainError


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Put a domain refusal next to the field it is about, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


class ServiceFields(FlaskForm):
    """What every service has, whatever its type: the offerings form adds the type and the
    package/bundle lines, the course form its recurrence."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    price = DecimalField(
        "Price", places=2, validators=[InputRequired(), NumberRange(min=0, max=1_000_000)]
    )
    currency = StringField(
        "Currency",
        default="USD",
        validators=[DataRequired(), Regexp(r"^[A-Za-z]{3}$", message="Three letters, e.g. USD.")],
    )
    duration_minutes = IntegerField(
        "Duration (minutes)", default=60, validators=[InputRequired(), NumberRange(5, 24 * 60)]
    )
    max_participants = IntegerField(
        "Max participants", default=1, validators=[InputRequired(), NumberRange(1, 1000)]
    )
    cancellation_cutoff_hours = IntegerField(
        "Cancellation cut-off (hours before start)",
        default=24,
        validators=[InputRequired(), NumberRange(0, 24 * 30)],
    )
    is_active = BooleanField("Offered to clients", default=True)

    def service_values(self) -> dict:
        """The fields as booking.catalog.save_service takes them."""
        return {
            "name": self.name.data.strip(),
            "description": self.description.data or "",
            "price_cents": int((self.price.data * 100).to_integral_value()),
            "currency": self.currency.data,
            "duration_minutes": self.duration_minutes.data,
            "max_participants": self.max_participants.data,
            "cancellation_cutoff_hours": self.cancellation_cutoff_hours.data,
            "is_active": self.is_active.data,
        }
