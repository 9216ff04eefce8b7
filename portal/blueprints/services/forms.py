from flask_babel import lazy_gettext
from wtforms import (
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ...booking import POLICY_LIMITS
from ...l10n import weekday_names
from ...models import CREDIT_SERVICE_TYPES, Service, ServiceType
from ...web.forms import ServiceFields


def _own_policy(label, key: str) -> IntegerField:
    """A 1-on-1 service's own value of one of the practitioner's booking settings: empty
    keeps theirs."""
    low, high = POLICY_LIMITS[key]
    return IntegerField(label, validators=[Optional(), NumberRange(low, high)])


class ServiceForm(ServiceFields):
    """A 1-on-1 service or a workshop; packages and bundles have their own form (packages),
    class passes theirs (passes), courses theirs (courses)."""

    service_type = SelectField(
        lazy_gettext("Type"),
        choices=[
            SelectChoice(t.value, t.label.capitalize())
            for t in ServiceType
            if t not in CREDIT_SERVICE_TYPES
            and t not in (ServiceType.CLASS_PASS, ServiceType.MEMBERSHIP)
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
    buffer_minutes = _own_policy(
        lazy_gettext("Buffer between sessions (minutes)"), "buffer_minutes"
    )
    min_notice_minutes = _own_policy(lazy_gettext("Minimum notice (minutes)"), "min_notice_minutes")
    horizon_days = _own_policy(lazy_gettext("Booking horizon (days ahead)"), "horizon_days")
    bookable_weekdays = SelectMultipleField(
        lazy_gettext("Only on these days"),
        coerce=int,
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    bookable_from = TimeField(lazy_gettext("Not before"), validators=[Optional()])
    bookable_until = TimeField(lazy_gettext("Ending by"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The viewer's own day names, Monday first.
        self.bookable_weekdays.choices = list(enumerate(weekday_names(width="wide")))

    def show_policy(self, service: Service) -> None:
        """The stored weekday mask as the boxes the form ticks."""
        self.bookable_weekdays.data = sorted(service.bookable_weekday_set or ())

    def service_values(self) -> dict:
        values = super().service_values()
        days = self.bookable_weekdays.data or []
        values.update(
            buffer_minutes=self.buffer_minutes.data,
            min_notice_minutes=self.min_notice_minutes.data,
            horizon_days=self.horizon_days.data,
            # None ticked (or all seven): every day the practitioner works.
            bookable_weekdays=(
                None if len(set(days)) in (0, 7) else sum(1 << day for day in set(days))
            ),
            bookable_from=self.bookable_from.data,
            bookable_until=self.bookable_until.data,
        )
        return values
