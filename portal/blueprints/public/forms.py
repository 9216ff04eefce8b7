from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from ...models import SLUG_MAX
from ...web.localtime import timezone_names


class PublicPageForm(FlaskForm):
    slug = StringField(
        lazy_gettext("Page address"),
        description=lazy_gettext("Your page is at /p/<address>. Old addresses keep leading to it."),
        validators=[DataRequired(), Length(min=2, max=SLUG_MAX)],
    )
    bio = TextAreaField(lazy_gettext("Short bio"), validators=[Optional(), Length(max=1000)])


class TimezoneForm(FlaskForm):
    timezone = SelectField(lazy_gettext("Show times in"), validators=[DataRequired()])
    next = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zones = timezone_names()
        self.timezone.choices = zones
        self.timezone.validators = [DataRequired(), AnyOf(zones)]
