from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import SubmitField


class ResendForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Send again"))
