from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from ...extensions import csrf
from ...models import Preference
from ...notifications.links import read_unsubscribe_token
from ...notifications.preferences import preferences_of, save_preferences, turn_off
from . import bp
from .forms import PreferencesForm, format_hours


def _choices_for(user) -> list[Preference]:
    if user.is_practitioner:
        return [Preference.PRACTITIONER_NOTICES, Preference.DAILY_AGENDA]
    return [Preference.REMINDERS]


@bp.route("/", methods=["GET", "POST"])
@login_required
def preferences():
    saved = preferences_of(current_user)
    form = PreferencesForm(
        data={
            **{p.value: saved.wants(p) for p in Preference},
            "reminder_offsets": format_hours(saved.reminder_offsets),
        }
    )
    if form.validate_on_submit():
        choices = {p: getattr(form, p.value).data for p in _choices_for(current_user)}
        save_preferences(current_user, choices, form.reminder_offsets.minutes)
        flash(gettext("Your notification choices are saved."), "success")
        return redirect(url_for("notifications.preferences"))
    return render_template(
        "notifications/preferences.html", form=form, choices=_choices_for(current_user)
    )


def _read(token: str) -> tuple[int, Preference]:
    found = read_unsubscribe_token(token)
    if found is None:
        abort(404)
    return found


@bp.route("/unsubscribe/<token>")
def confirm_unsubscribe(token: str):
    """A GET changes nothing: mail scanners open every link in a message."""
    _user_id, preference = _read(token)
    return render_template("notifications/unsubscribe.html", preference=preference, done=False)


# RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" with no cookie and no page,
# so there is no CSRF token to check; the signed token is the proof instead.
@bp.route("/unsubscribe/<token>", methods=["POST"])
@csrf.exempt
def unsubscribe(token: str):
    user_id, preference = _read(token)
    turn_off(user_id, preference)
    return render_template("notifications/unsubscribe.html", preference=preference, done=True)
