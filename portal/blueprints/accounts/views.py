from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from ... import accounts, privacy
from ...booking import DomainError, NotPermitted
from ...extensions import limiter
from ...models import Role
from ...web import local_time
from ...web.auth import (
    new_sign_up_browser_key,
    roles_required,
    sign_in,
    sign_up_browser_key,
    submitted_email_key,
)
from ...web.forms import show_domain_error
from ...web.localtime import browser_locale
from ...web.security import safe_next
from . import bp
from .forms import (
    CancelDeletionForm,
    ConfirmForm,
    DataExportForm,
    DeleteAccountForm,
    DownloadExportForm,
    EmailChangeForm,
    NewPasswordForm,
    ProfileForm,
    ResetRequestForm,
    SignUpForm,
)


def _limit(setting: str):
    return lambda: current_app.config[setting]


def _per_address_and_account(address_setting: str, account_setting: str, message):
    """A request that sends mail, limited twice: per client address, and per submitted
    email from any address (so neither one machine nor one inbox can be flooded)."""
    by_address = limiter.limit(
        _limit(address_setting), methods=["POST"], error_message=lambda: str(message)
    )
    by_account = limiter.limit(
        _limit(account_setting),
        methods=["POST"],
        key_func=submitted_email_key,
        error_message=lambda: str(message),
    )
    return lambda view: by_address(by_account(view))


def _signed_in_user_key() -> str:
    # Per account, like the password change: a signed-in user gains nothing by moving.
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


def _next() -> str | None:
    return safe_next(request.args.get("next"))


def _bad_link(error: accounts.BadLink):
    # 400 and no form: the page says what happened and where to ask for a new link.
    return render_template("accounts/bad_link.html", problem=error.problem), 400


def _check_email(address: str, kind: str):
    """The one answer to a sign-up or reset request, whether or not the address has an
    account: what to look for in the inbox, never whether a message was sent."""
    return render_template("accounts/check_email.html", address=address, kind=kind)


@bp.route("/signup", methods=["GET", "POST"])
@_per_address_and_account(
    "PORTAL_SIGNUP_RATE_LIMIT",
    "PORTAL_SIGNUP_ACCOUNT_RATE_LIMIT",
    lazy_gettext("Too many sign-ups."),
)
def sign_up():
    if current_user.is_authenticated:
        return redirect(_next() or url_for("home.index"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            accounts.sign_up(
                form.email.data,
                form.name.data,
                form.password.data,
                form.timezone.data,
                next_path=_next(),
                browser_key=new_sign_up_browser_key(),
                locale=browser_locale(),
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            return _check_email(form.email.data, "signup")
    return render_template("accounts/signup.html", form=form)


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    form = ConfirmForm()
    try:
        if not form.validate_on_submit():
            accounts.verification_user(token)
            return render_template("accounts/confirm.html", form=form, kind="verify")
        signed_in_as = current_user._get_current_object() if current_user.is_authenticated else None
        user = accounts.verify_email(
            token, browser_key=sign_up_browser_key(), signed_in_as=signed_in_as
        )
    except accounts.BadLink as error:
        return _bad_link(error)
    except NotPermitted as error:
        flash(error.message, "info")
        return redirect(
            url_for("auth.login", next=url_for("accounts.verify_email", token=token, next=_next()))
        )
    if signed_in_as is None or signed_in_as.id != user.id:
        sign_in(user)
    flash(gettext("Your email address is confirmed. Welcome!"), "success")
    return redirect(_next() or url_for("home.index"))


@bp.route("/settings/verify-email", methods=["POST"])
@limiter.limit(
    _limit("PORTAL_RESET_ACCOUNT_RATE_LIMIT"),
    methods=["POST"],
    key_func=_signed_in_user_key,
    error_message=lambda: gettext("Too many confirmation emails."),
)
@login_required
def resend_verification():
    if ConfirmForm().validate_on_submit():
        try:
            accounts.resend_verification(current_user)
        except DomainError as error:
            flash(error.message, "info")
        else:
            flash(
                gettext("We sent a new confirmation link to %(email)s.", email=current_user.email),
                "success",
            )
    return redirect(url_for("accounts.profile"))


@bp.route("/reset-password", methods=["GET", "POST"])
@_per_address_and_account(
    "PORTAL_RESET_RATE_LIMIT",
    "PORTAL_RESET_ACCOUNT_RATE_LIMIT",
    lazy_gettext("Too many reset requests."),
)
def request_password_reset():
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        return _check_email(form.email.data, "reset")
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = NewPasswordForm()
    try:
        accounts.reset_user(token)
        if form.validate_on_submit():
            user = accounts.reset_password(token, form.password.data)
            sign_in(user)
            flash(gettext("Your password is changed and you are signed in."), "success")
            return redirect(url_for("home.index"))
    except accounts.BadLink as error:
        return _bad_link(error)
    except DomainError as error:
        show_domain_error(form, error)
    return render_template("accounts/new_password.html", form=form, kind="reset")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    form = NewPasswordForm()
    try:
        invitee = accounts.invitation_user(token)
        if form.validate_on_submit():
            user = accounts.accept_invitation(token, form.password.data)
            sign_in(user)
            flash(gettext("Welcome to Estuary: your account is ready."), "success")
            return redirect(url_for("home.index"))
    except accounts.BadLink as error:
        return _bad_link(error)
    except DomainError as error:
        show_domain_error(form, error)
    return render_template(
        "accounts/new_password.html", form=form, kind="invitation", invitee=invitee
    )


def _preferences_url() -> str | None:
    # The notification preferences live in the notifications blueprint, when installed.
    try:
        return url_for("notifications.preferences")
    except BuildError:
        return None


def _profile_page(
    profile: ProfileForm,
    email_form: EmailChangeForm,
    status: int = 200,
    delete_form: DeleteAccountForm | None = None,
):
    page = render_template(
        "accounts/profile.html",
        form=profile,
        email_form=email_form,
        resend_form=ConfirmForm(),
        preferences_url=_preferences_url(),
        export_form=DataExportForm(),
        latest_export=privacy.latest_export(current_user),
        delete_form=delete_form or DeleteAccountForm(formdata=None),
        cancel_deletion_form=CancelDeletionForm(),
        pending_erasure=privacy.pending_erasure(current_user),
        grace_days=privacy.grace_period().days,
    )
    return page, status


def _other_forms() -> tuple[ProfileForm, EmailChangeForm]:
    return ProfileForm(formdata=None, obj=current_user), EmailChangeForm(formdata=None)


@bp.route("/settings/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            accounts.update_profile(
                current_user, form.name.data, form.timezone.data, form.locale.data or None
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(gettext("Your profile is saved."), "success")
            return redirect(url_for("accounts.profile"))
    return _profile_page(form, EmailChangeForm(formdata=None))


@bp.route("/settings/email", methods=["POST"])
@limiter.limit(
    _limit("PORTAL_PASSWORD_CHANGE_RATE_LIMIT"),
    methods=["POST"],
    key_func=_signed_in_user_key,
    error_message=lambda: gettext("Too many email change attempts."),
)
@login_required
def request_email_change():
    form = EmailChangeForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(gettext("That is not your current password."))
        else:
            try:
                accounts.request_email_change(current_user, form.email.data)
            except DomainError as error:
                show_domain_error(form, error)
            else:
                flash(
                    gettext(
                        "We sent a confirmation link to %(email)s. Your address "
                        "changes once you follow it.",
                        email=accounts.normalize_email(form.email.data),
                    ),
                    "success",
                )
                return redirect(url_for("accounts.profile"))
    return _profile_page(ProfileForm(formdata=None, obj=current_user), form, 422)


@bp.route("/settings/email/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    form = ConfirmForm()
    try:
        user, new_email = accounts.email_change(token)
        if form.validate_on_submit():
            accounts.confirm_email_change(token)
            flash(
                gettext("Your email address is now %(new_email)s.", new_email=new_email), "success"
            )
            target = "accounts.profile" if current_user.is_authenticated else "auth.login"
            return redirect(url_for(target))
    except accounts.BadLink as error:
        return _bad_link(error)
    except DomainError as error:
        flash(error.message, "error")
    return render_template(
        "accounts/confirm.html", form=form, kind="email_change", user=user, new_email=new_email
    )


@bp.route("/settings/email/restore/<token>", methods=["GET", "POST"])
def restore_email(token: str):
    """The old address's way back after an email change it did not ask for."""
    form = ConfirmForm()
    try:
        _user, old_email = accounts.email_restore(token)
        if form.validate_on_submit():
            accounts.restore_email(token)
            flash(
                gettext(
                    "Your account's address is %(email)s again and every device is signed "
                    "out. Choose a new password now.",
                    email=old_email,
                ),
                "success",
            )
            return redirect(url_for("accounts.request_password_reset"))
    except accounts.BadLink as error:
        return _bad_link(error)
    except DomainError as error:
        flash(error.message, "error")
    return render_template(
        "accounts/confirm.html", form=form, kind="email_restore", old_email=old_email
    )


# -- data rights (GDPR) ---------------------------------------------------------------------


@bp.route("/settings/data-export", methods=["POST"])
@limiter.limit(
    _limit("PORTAL_RESET_ACCOUNT_RATE_LIMIT"),
    methods=["POST"],
    key_func=_signed_in_user_key,
    error_message=lambda: gettext("Too many data export requests."),
)
@login_required
def request_export():
    if DataExportForm().validate_on_submit():
        privacy.request_export(current_user)
        flash(
            gettext(
                "We are preparing a copy of your data; a download link goes to %(email)s "
                "within minutes.",
                email=current_user.email,
            ),
            "success",
        )
    return redirect(url_for("accounts.profile"))


@bp.route("/settings/data-export/<token>", methods=["GET", "POST"])
@login_required
def download_export(token: str):
    """The emailed link shows a button; the POST hands the zip over, once."""
    form = DownloadExportForm()
    try:
        if not form.validate_on_submit():
            privacy.export_for(token, current_user)
            return render_template("accounts/download_export.html", form=form)
        data = privacy.download_export(token, current_user)
    except accounts.BadLink as error:
        return _bad_link(error)
    except NotPermitted:
        abort(404)
    response = current_app.response_class(data, mimetype="application/zip")
    response.headers["Content-Disposition"] = 'attachment; filename="estuary-data.zip"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/settings/delete-account", methods=["POST"])
@limiter.limit(
    _limit("PORTAL_PASSWORD_CHANGE_RATE_LIMIT"),
    methods=["POST"],
    key_func=_signed_in_user_key,
    error_message=lambda: gettext("Too many attempts."),
)
@roles_required(Role.CLIENT)
def request_erasure():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.password.data):
            form.password.errors.append(gettext("That is not your current password."))
        else:
            try:
                scheduled = privacy.request_erasure(current_user)
            except DomainError as error:
                show_domain_error(form, error)
            else:
                flash(
                    gettext(
                        "Your account will be deleted on %(day)s. Until then you can cancel "
                        "it here.",
                        day=local_time(scheduled.due_at, "date"),
                    ),
                    "success",
                )
                return redirect(url_for("accounts.profile"))
    return _profile_page(*_other_forms(), 422, delete_form=form)


@bp.route("/settings/delete-account/cancel", methods=["POST"])
@roles_required(Role.CLIENT)
def cancel_erasure():
    if CancelDeletionForm().validate_on_submit():
        try:
            privacy.cancel_erasure(current_user)
        except DomainError as error:
            flash(error.message, "info")
        else:
            flash(gettext("Your account will not be deleted."), "success")
    return redirect(url_for("accounts.profile"))
