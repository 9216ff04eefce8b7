from flask_babel import lazy_gettext
from wtforms import FieldList, Form, FormField, IntegerField, SelectChoice, SelectField
from wtforms.validators import NumberRange, Optional

from ...models import CREDIT_SERVICE_TYPES, ServiceType
from ...web.forms import ServiceFields


class ComponentForm(Form):
    """One line of a package or bundle; an empty line is ignored."""

    included = SelectField(lazy_gettext("Service"), coerce=int, validate_choice=False)
    quantity = IntegerField(
        lazy_gettext("Quantity"), validators=[Optional(), NumberRange(min=1, max=100)]
    )


class PackageForm(ServiceFields):
    """The service form of a package (several 1-on-1 services) or a bundle (one, many times)."""

    service_type = SelectField(
        lazy_gettext("Type"),
        choices=[
            SelectChoice(t.value, t.label.capitalize())
            for t in ServiceType
            if t in CREDIT_SERVICE_TYPES
        ],
    )
    validity_days = IntegerField(
        lazy_gettext("Valid for (days)"),
        validators=[Optional(), NumberRange(1, 3650)],
    )
    components = FieldList(FormField(ComponentForm), min_entries=4, max_entries=10)
    show_seats_left = None
