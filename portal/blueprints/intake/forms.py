from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from ... import records
from ...models import IntakeDelivery, ItemKind
from ...web.intake_fields import MultiCheckboxField


class ItemForm(Form):
    """One question of the builder; a question without a label is left out."""

    key = HiddenField()
    kind = SelectField(
        lazy_gettext("Kind"),
        choices=[SelectChoice(kind.value, kind.label) for kind in ItemKind],
        default=ItemKind.SHORT_TEXT.value,
    )
    label = StringField(lazy_gettext("Question"), validators=[Optional(), Length(max=300)])
    help = StringField(lazy_gettext("Hint under it"), validators=[Optional(), Length(max=300)])
    required = BooleanField(lazy_gettext("An answer is required"))
    options = TextAreaField(
        lazy_gettext("Options (for choices)"),
        description=lazy_gettext("One a line."),
        validators=[Optional(), Length(max=4000)],
    )
    consent_text = TextAreaField(
        lazy_gettext("Consent text (for a consent)"),
        description=lazy_gettext("What the client agrees to; they sign by typing their name."),
        validators=[Optional(), Length(max=10000)],
    )
    remove = BooleanField(lazy_gettext("Remove this question"))

    def item(self) -> records.Item | None:
        if self.remove.data or not (self.label.data or "").strip():
            return None
        return records.Item(
            key=self.key.data or "",
            kind=ItemKind(self.kind.data),
            label=self.label.data or "",
            help=self.help.data or "",
            required=bool(self.required.data),
            options=tuple((self.options.data or "").splitlines()),
            consent_text=self.consent_text.data or "",
        )


class IntakeFormForm(FlaskForm):
    title = StringField(lazy_gettext("Title"), validators=[DataRequired(), Length(max=200)])
    delivery = RadioField(
        lazy_gettext("When clients answer it"),
        choices=[SelectChoice(d.value, d.label) for d in IntakeDelivery],
        default=IntakeDelivery.AT_BOOKING.value,
    )
    required = BooleanField(
        lazy_gettext("Required: flag clients who have not answered it"), default=True
    )
    services = MultiCheckboxField(lazy_gettext("Asked for these services"), coerce=int)
    items = FieldList(FormField(ItemForm), min_entries=1, max_entries=records.intake.MAX_ITEMS + 1)

    def questions(self) -> list[records.Item]:
        return [item for entry in self.items for item in [entry.form.item()] if item]
