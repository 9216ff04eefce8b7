from flask_wtf import FlaskForm
from wtforms import SubmitField


class ResendForm(FlaskForm):
    submit = SubmitField("Send again")
