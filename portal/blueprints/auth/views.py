from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user

from ... import accounts
from ...booking import DomainError
from ...extensions import limiter
from ...web import sign_in
from ...web.auth import submitted_email_key
from ...web.forms import show_domain_error
from ...web.security import safe_next
from . import bp
from .forms import LoginForm, PasswordChangeForm, SignOutEverywhereForm


def _login_limit() -> str:
    return current_app.config["PORTAL_LOGIN_RATE_LIMIT"]


def _login_account_limit() -> str:
    return current_app.config["PORTAL_LOGIN_ACCOUNT_RATE_LIMIT"]


def _password_change_limit() -> str:
    return current_app.config["PORTAL_PASSWORD_CHANGE_RATE_LIMIT"]


def _signed_in_user_key() -> str:
    # Per account, not per address: whoever holds a sign-in gains no guesses by moving.
    # The id, not get_id(): that changes with the password and would reset the count.
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit, methods=["POST"], error_message=lambda: gettext("Too many sign-in attempts.")
)
@limiter.limit(
    _login_account_limit,
    methods=["POST"],
    key_func=submitted_email_key,
    error_message=lambda: gettext("Too many sign-in attempts."),
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.find_user_by_email(form.email.data)
        if not accounts.password_matches(user, form.password.data):
            form.password.errors.append(gettext("Email or password is not right."))
        elif not user.is_active:
            form.email.errors.append(gettext("This account is deactivated."))
        else:
            sign_in(user, remember=form.remember_me.data)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    accounts.sign_out(current_user)
    logout_user()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(
    _password_change_limit,
    methods=["POST"],
    key_func=_signed_in_user_key,
    error_message=lambda: gettext("Too many password change attempts."),
)
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(gettext("That is not your current password."))
        else:
            try:
                accounts.change_password(current_user, form.new_password.data)
            except DomainError as error:
                show_domain_error(form, error)
            else:
                # Every sign-in has just ended; this browser gets a new one.
                remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
                sign_in(current_user._get_current_object(), remember=remembered in request.cookies)
                flash(gettext("Your password is changed."), "success")
                return redirect(url_for("home.index"))
    return render_template("auth/password.html", form=form, everywhere_form=SignOutEverywhereForm())


@bp.route("/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """Ends every sign-in of the account, on every device, this one included."""
    # CSRFProtect has already refused a post without the form's token.
    accounts.sign_out_everywhere(current_user)
    logout_user()
    flash(gettext("You are signed out on every device."), "info")
    return redirect(url_for("auth.login"))
