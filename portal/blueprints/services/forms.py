from flask_babel import lazy_gettext
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from ...models import CREDIT_SERVICE_TYPES, ServiceType
from ...web.forms import ServiceFields


class ServiceForm(ServiceFields):
    """A 1-on-1 service or a workshop; packages and bundles have their own form (packages),
    class passes theirs (passes), courses theirs (courses)."""

    service_type = SelectField(
        lazy_gettext("Type"),
        choices=[
            SelectChoice(t.value, t.label.capitalize())
            for t in ServiceType
            if t not in CREDIT_SERVICE_TYPES and t != ServiceType.CLASS_PASS
        ],
    )
    tags = StringField(
        lazy_gettext("Tags"),
        validators=[Optional(), Length(max=400)],
        description=lazy_gettext(
            "Separated by commas, e.g. “group class”: a class pass can name every service "
            "with a tag."
        ),
    )
