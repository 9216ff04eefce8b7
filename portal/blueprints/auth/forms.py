from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from ...web.forms import acceptable_password


class LoginForm(FlaskForm):
    email = EmailField(lazy_gettext("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=200)])
    remember_me = BooleanField(lazy_gettext("Remember me"))
    submit = SubmitField(lazy_gettext("Sign in"))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(lazy_gettext("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        lazy_gettext("New password"), validators=[DataRequired(), acceptable_password]
    )
    confirm_password = PasswordField(
        lazy_gettext("Repeat new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=lazy_gettext("The passwords differ.")),
        ],
    )
    submit = SubmitField(lazy_gettext("Change password"))


class SignOutEverywhereForm(FlaskForm):
    """No fields: the form exists for its CSRF token."""

    submit = SubmitField(lazy_gettext("Sign out everywhere"))
