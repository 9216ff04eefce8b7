from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import NumberRange, Optional

from ...database import MAX_ID


class BuyForm(FlaskForm):
    """Buy a workshop seat (session_id) or a course."""

    session_id = IntegerField(
        lazy_gettext("Session"),
        validators=[Optional(), NumberRange(min=1, max=MAX_ID)],
        widget=HiddenField.widget,
    )
