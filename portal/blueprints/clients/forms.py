from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import Length


class ClientRecordForm(FlaskForm):
    tags = StringField(
        lazy_gettext("Tags"),
        validators=[Length(max=900)],
        description=lazy_gettext("Separate tags with commas. Only you see them."),
    )
    about = TextAreaField(
        lazy_gettext("About this client"),
        validators=[Length(max=20_000)],
        description=lazy_gettext("Private to you, kept encrypted."),
    )
    submit = SubmitField(lazy_gettext("Save"))
