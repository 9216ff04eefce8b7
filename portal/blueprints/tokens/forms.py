from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class CreateTokenForm(FlaskForm):
    name = StringField(
        "Token name",
        validators=[DataRequired(), Length(max=100)],
        description="What will use it, e.g. “calendar sync”.",
    )
    submit = SubmitField("Create token")


class RevokeTokenForm(FlaskForm):
    submit = SubmitField("Revoke")
