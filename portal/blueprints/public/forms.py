from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ...models import SLUG_MAX
from ...web.forms import timezone_field


class PublicPageForm(FlaskForm):
    slug = StringField(
        lazy_gettext("Page address"),
        description=lazy_gettext("Your page is at /p/<address>. Old addresses keep leading to it."),
        validators=[DataRequired(), Length(min=2, max=SLUG_MAX)],
    )
    bio = TextAreaField(lazy_gettext("Short bio"), validators=[Optional(), Length(max=1000)])


class TimezoneForm(FlaskForm):
    timezone = timezone_field(lazy_gettext("Show times in"))
    next = HiddenField()
