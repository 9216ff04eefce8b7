from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length


class MarkPaidForm(FlaskForm):
    reference = StringField(
        lazy_gettext("Payment reference"),
        validators=[
            Length(max=120, message=lazy_gettext("Keep the reference under 120 characters."))
        ],
    )
