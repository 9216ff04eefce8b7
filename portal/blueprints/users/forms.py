from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from ...models import Role
from ...web.forms import timezone_field


class InviteForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(
        lazy_gettext("Role"),
        choices=[SelectChoice(role.value, role.label) for role in Role],
        default=Role.PRACTITIONER.value,
    )
    timezone = timezone_field()
    submit = SubmitField(lazy_gettext("Send invitation"))
