from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ...models import SUBSCRIBABLE_EVENTS
from ...webhooks_out.addresses import UnsafeURL
from ...webhooks_out.endpoints import check_url


def _safe_url(_form, field) -> None:
    try:
        check_url(field.data or "")
    except UnsafeURL as exc:
        raise ValidationError(str(exc)) from exc


class EndpointForm(FlaskForm):
    url = StringField(
        lazy_gettext("URL"),
        validators=[DataRequired(), Length(max=2000), _safe_url],
        description=lazy_gettext("An https:// address that accepts POST requests."),
    )
    description = StringField(
        lazy_gettext("Description"),
        validators=[Optional(), Length(max=100)],
        description=lazy_gettext("E.g. “CRM sync”."),
    )
    event_types = SelectMultipleField(
        lazy_gettext("Events"),
        choices=[SelectChoice(t.value, t.label) for t in SUBSCRIBABLE_EVENTS],
        default=[t.value for t in SUBSCRIBABLE_EVENTS],
        validators=[DataRequired(message=lazy_gettext("Choose at least one event."))],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )
    submit = SubmitField(lazy_gettext("Add endpoint"))


class EndpointActionForm(FlaskForm):
    """Delete, enable and test: a button and the CSRF token."""

    submit = SubmitField(lazy_gettext("Go"))
