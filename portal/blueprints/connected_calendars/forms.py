from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ...external_calendars.fetch import http_url
from ...webhooks_out.addresses import UnsafeURL, check_literal_host, parse_url


def _fetchable_url(_form, field) -> None:
    try:
        check_literal_host(parse_url(http_url(field.data or "")))
    except UnsafeURL as exc:
        raise ValidationError(str(exc)) from exc


class IcsCalendarForm(FlaskForm):
    name = StringField(
        lazy_gettext("Name"),
        validators=[Optional(), Length(max=200)],
        description=lazy_gettext("E.g. “Personal” or “Clinic”."),
    )
    url = StringField(
        lazy_gettext("Secret address in iCal format"),
        validators=[DataRequired(), Length(max=2000), _fetchable_url],
        description=lazy_gettext(
            "Google: Settings, the calendar, “Secret address in iCal format”. Outlook: "
            "Settings, Shared calendars, Publish. iCloud: share the calendar publicly."
        ),
    )
    submit = SubmitField(lazy_gettext("Subscribe"))


class CaldavAccountForm(FlaskForm):
    server_url = StringField(
        lazy_gettext("Server address"),
        validators=[DataRequired(), Length(max=2000), _fetchable_url],
        description=lazy_gettext("E.g. https://caldav.icloud.com or https://caldav.fastmail.com"),
    )
    username = StringField(lazy_gettext("User name"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        lazy_gettext("App password"),
        validators=[DataRequired(), Length(max=500)],
        description=lazy_gettext("Make an app password in your account's security settings."),
    )
    submit = SubmitField(lazy_gettext("Connect"))


class CalendarSettingsForm(FlaskForm):
    blocks_time = BooleanField(lazy_gettext("Its events block my booking slots"))
    receives_bookings = BooleanField(lazy_gettext("Write my portal sessions into it"))
    share_attendee_names = BooleanField(lazy_gettext("Include attendees' names in those events"))
    submit = SubmitField(lazy_gettext("Save"))


class CalendarActionForm(FlaskForm):
    """Refresh and disconnect: a button and the CSRF token."""

    submit = SubmitField(lazy_gettext("Go"))
