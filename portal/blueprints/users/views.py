from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm

from ... import accounts, privacy
from ...booking import DomainError
from ...extensions import db
from ...models import Role, User
from ...web import roles_required
from ...web.forms import show_domain_error
from . import bp
from .forms import InviteForm


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _posted() -> None:
    # The buttons on the list are forms of their own: only their CSRF token is checked.
    if not FlaskForm().validate_on_submit():
        abort(400)


@bp.route("/")
@roles_required(Role.STAFF)
def list_users():
    return render_template(
        "users/list.html",
        users=accounts.list_users(),
        form=FlaskForm(),
        pending_erasures=privacy.pending_erasures(),
    )


@bp.route("/invite", methods=["GET", "POST"])
@roles_required(Role.STAFF)
def invite_user():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = accounts.invite_user(
                form.email.data,
                form.name.data,
                Role(form.role.data),
                timezone=form.timezone.data,
                invited_by=current_user,
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(gettext("Invitation sent to %(email)s.", email=user.email), "success")
            return redirect(url_for("users.list_users"))
    return render_template("users/invite.html", form=form)


def _act(user_id: int, operation, done: str):
    _posted()
    user = _user(user_id)
    try:
        operation(user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(done.format(email=user.email), "success")
    return redirect(url_for("users.list_users"))


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
@roles_required(Role.STAFF)
def deactivate_user(user_id: int):
    return _act(
        user_id,
        lambda user: accounts.deactivate_user(user, by=current_user),
        "{email} is deactivated: their sessions, API tokens and calendar feed stopped working.",
    )


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
@roles_required(Role.STAFF)
def reactivate_user(user_id: int):
    return _act(
        user_id,
        lambda user: accounts.reactivate_user(user, by=current_user),
        "{email} may sign in again.",
    )


@bp.route("/<int:user_id>/resend-invitation", methods=["POST"])
@roles_required(Role.STAFF)
def resend_invitation(user_id: int):
    return _act(
        user_id,
        accounts.resend_invitation,
        "A new invitation went to {email}; the links sent before no longer work.",
    )


# -- data rights, on a client's behalf (they asked staff rather than the profile) -----------


@bp.route("/<int:user_id>/export", methods=["POST"])
@roles_required(Role.STAFF)
def request_export(user_id: int):
    return _act(
        user_id,
        lambda user: privacy.request_export(user, by=current_user),
        gettext("A copy of {email}'s data is being prepared; the link goes to that address."),
    )


@bp.route("/<int:user_id>/erase", methods=["POST"])
@roles_required(Role.STAFF)
def request_erasure(user_id: int):
    return _act(
        user_id,
        lambda user: privacy.request_erasure(user, by=current_user),
        gettext("{email}'s account is scheduled for deletion; they were told how to cancel it."),
    )


@bp.route("/<int:user_id>/keep", methods=["POST"])
@roles_required(Role.STAFF)
def cancel_erasure(user_id: int):
    return _act(
        user_id,
        lambda user: privacy.cancel_erasure(user, by=current_user),
        gettext("{email}'s account will not be deleted."),
    )
