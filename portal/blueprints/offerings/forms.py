from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ...models import ServiceType


class ComponentForm(Form):
    """One line of a package or bundle; an empty line is ignored."""

    included = SelectField("Service", coerce=int, validate_choice=False)
    quantity = IntegerField("Quantity", validators=[Optional(), NumberRange(min=1, max=100)])


class ServiceForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    service_type = SelectField(
        "Type", choices=[SelectChoice(t.value, t.label.capitalize()) for t in ServiceType]
    )
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
    validity_days = IntegerField(
        "Valid for (days, packages and bundles)",
        validators=[Optional(), NumberRange(1, 3650)],
    )
    is_active = BooleanField("Offered to clients", default=True)
    components = FieldList(FormField(ComponentForm), min_entries=4, max_entries=10)
