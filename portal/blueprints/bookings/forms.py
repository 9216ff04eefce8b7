from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange


class OfferPassForm(FlaskForm):
    """One "Take it with this pass" button on a waitlist offer: the pass that pays for it."""

    pass_id = IntegerField(validators=[InputRequired(), NumberRange(1, 2**31 - 1)])
