from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class CreateTokenForm(FlaskForm):
    name = StringField(
        lazy_gettext("Token name"),
        validators=[DataRequired(), Length(max=100)],
        description=lazy_gettext("What will use it, e.g. “calendar sync”."),
    )
    submit = SubmitField(lazy_gettext("Create token"))


class RevokeTokenForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Revoke"))
