from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from ...l10n import locale_choices
from ...web.forms import NewPasswordFields, timezone_field


def _locale_choices() -> list[tuple[str, str]]:
    return [("", lazy_gettext("As my browser asks")), *locale_choices()]


def _email_field(label: str = lazy_gettext("Email")) -> EmailField:
    return EmailField(label, validators=[DataRequired(), Email(), Length(max=254)])


def _name_field() -> StringField:
    return StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=120)])


class SignUpForm(NewPasswordFields):
    name = _name_field()
    email = _email_field()
    timezone = timezone_field()
    submit = SubmitField(lazy_gettext("Create account"))


class ResetRequestForm(FlaskForm):
    email = _email_field()
    submit = SubmitField(lazy_gettext("Send me a reset link"))


class NewPasswordForm(NewPasswordFields):
    submit = SubmitField(lazy_gettext("Set password"))


class ConfirmForm(FlaskForm):
    """A button: a link in an email only shows a page; this POST does the change."""

    submit = SubmitField(lazy_gettext("Confirm"))


class ProfileForm(FlaskForm):
    name = _name_field()
    timezone = timezone_field()
    locale = SelectField(
        lazy_gettext("Date, time and number formats"),
        choices=_locale_choices,
        default="",
        # None (follow the browser) is the blank choice.
        filters=[lambda value: value or ""],
        validate_choice=True,
    )
    submit = SubmitField(lazy_gettext("Save"))


class EmailChangeForm(FlaskForm):
    email = _email_field("New email")
    current_password = PasswordField(
        lazy_gettext("Current password"), validators=[DataRequired(), Length(max=200)]
    )
    submit = SubmitField(lazy_gettext("Send confirmation link"))


class DataExportForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Prepare a copy of my data"))


class DownloadExportForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Download"))


class DeleteAccountForm(FlaskForm):
    # Not "current_password": the email form on the same page has that field (and its id).
    password = PasswordField(
        lazy_gettext("Your password"), validators=[DataRequired(), Length(max=200)]
    )
    submit = SubmitField(lazy_gettext("Delete my account"))


class CancelDeletionForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Keep my account"))
