"""An intake form's questions as WTForms fields, for every page that asks them (the intake
pages and the booking page), and the answers read back for the domain (records.intake).

The fields check what a browser can get wrong (a required answer missing, a date that is
not one) and show every error at once next to its question; the domain checks again
before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    Field,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from .. import records
from ..models import IntakeFormVersion, ItemKind

TEXT_MAX = 5000
# Sent with the questions: a booking posted without it came from a page that did not ask.
INTAKE_MARK = "intake_asked"
PHONE = r"^\+?[0-9 ()./-]{5,30}$"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _field(item: records.Item) -> Field:
    needed = (
        [InputRequired(message=str(lazy_gettext("Answer this question.")))]
        if item.required
        else [Optional()]
    )
    label, hint = item.label, item.help or None
    choices = [SelectChoice(o, o) for o in item.options]
    if item.kind == ItemKind.SHORT_TEXT:
        return StringField(label, needed + [Length(max=TEXT_MAX)], description=hint)
    if item.kind == ItemKind.LONG_TEXT:
        return TextAreaField(label, needed + [Length(max=TEXT_MAX)], description=hint)
    if item.kind == ItemKind.SINGLE_CHOICE:
        return RadioField(label, needed, choices=choices, description=hint, validate_choice=True)
    if item.kind == ItemKind.MULTIPLE_CHOICE:
        return MultiCheckboxField(label, needed, choices=choices, description=hint)
    if item.kind == ItemKind.CHECKBOX:
        return BooleanField(label, needed, description=hint)
    if item.kind == ItemKind.DATE:
        return DateField(label, needed, description=hint)
    if item.kind == ItemKind.NUMBER:
        return DecimalField(label, needed, description=hint)
    if item.kind == ItemKind.PHONE:
        message = str(lazy_gettext("Give a phone number: digits, spaces, + ( ) - only."))
        return TelField(label, needed + [Regexp(PHONE, message=message)], description=hint)
    if item.kind == ItemKind.FILE:
        return FileField(
            label,
            description=hint or lazy_gettext("A PDF, JPEG or PNG file."),
        )
    if item.kind == ItemKind.CONSENT:
        return StringField(
            lazy_gettext("Type your full name to sign"),
            [
                InputRequired(
                    message=str(lazy_gettext("Type your full name to give your consent."))
                ),
                Length(max=300),
            ],
            render_kw={"autocomplete": "name"},
        )
    raise AssertionError(item.kind)


def field_name(version: IntakeFormVersion, item: records.Item) -> str:
    return f"v{version.id}_{item.key}"


@dataclass(frozen=True)
class Question:
    item: records.Item
    name: str


@dataclass(frozen=True)
class AskedForm:
    """One form's version on a page: its questions in order, each with its field's name."""

    version: IntakeFormVersion
    questions: list[Question]

    @property
    def title(self) -> str:
        return self.version.form.title


def asked(versions: list[IntakeFormVersion]) -> list[AskedForm]:
    return [
        AskedForm(v, [Question(i, field_name(v, i)) for i in records.items_of(v)]) for v in versions
    ]


def answers_form(forms: list[AskedForm], base: type[FlaskForm] = FlaskForm, **kwargs) -> FlaskForm:
    """A form class made for these questions (on top of `base`'s own fields), bound to
    the request like any FlaskForm."""
    fields = {q.name: _field(q.item) for f in forms for q in f.questions}
    return type("IntakeAnswersForm", (base,), fields)(**kwargs)


def read_answers(form: FlaskForm, forms: list[AskedForm]) -> list[records.Answers]:
    found = []
    for asked_form in forms:
        values = {}
        for q in asked_form.questions:
            data = form[q.name].data
            if isinstance(data, FileStorage):
                data = records.Upload(data.read()) if data.filename else None
            values[q.item.key] = data
        found.append(records.Answers(asked_form.version, values))
    return found


def show_answer_error(
    form: FlaskForm, forms: list[AskedForm], key: str | None, message: str
) -> None:
    """A domain refusal of one answer, put next to its question (item keys are random, so
    one names one question across the forms of a page)."""
    name = next((q.name for f in forms for q in f.questions if q.item.key == key), None)
    if name is not None:
        form[name].errors = [*form[name].errors, message]
    else:
        form.form_errors.append(message)
