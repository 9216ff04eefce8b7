from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from ...models import NoteKind

_LONG = Length(max=20_000)


class NoteForm(FlaskForm):
    kind = HiddenField(validators=[AnyOf([k.value for k in NoteKind])])
    text = TextAreaField(lazy_gettext("Note"), validators=[_LONG])
    subjective = TextAreaField(lazy_gettext("Subjective"), validators=[_LONG])
    objective = TextAreaField(lazy_gettext("Objective"), validators=[_LONG])
    assessment = TextAreaField(lazy_gettext("Assessment"), validators=[_LONG])
    plan = TextAreaField(lazy_gettext("Plan"), validators=[_LONG])
    submit = SubmitField(lazy_gettext("Save draft"))


class SignForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Sign and lock"))


class AddendumForm(FlaskForm):
    text = TextAreaField(lazy_gettext("Addendum"), validators=[DataRequired(), _LONG])
    submit = SubmitField(lazy_gettext("Add addendum"))


class ShareForm(FlaskForm):
    shared = BooleanField(lazy_gettext("Shared with staff"))
    submit = SubmitField(lazy_gettext("Save sharing"))
