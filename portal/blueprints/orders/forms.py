from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length


class MarkPaidForm(FlaskForm):
    reference = StringField(
        "Payment reference",
        validators=[Length(max=120, message="Keep the reference under 120 characters.")],
    )
