"""The staff outbox: every message the portal wrote, its state, and a resend for the
ones that failed. Without MAIL_SERVER this is where a newcomer reads what was "sent"."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from ...extensions import db
from ...models import Notification, NotificationStatus, Role
from ...notifications import delivery
from ...notifications.mailer import compose, read_kept
from ...notifications.outbox import withhold_link
from ...web import roles_required
from . import bp
from .forms import ResendForm
from .queries import counts_by_status, recent_messages


def get_message(notification_id: int) -> Notification:
    row = db.session.get(Notification, notification_id)
    if row is None:
        abort(404)
    return row


def _readable(row: Notification, part) -> str:
    content = part.get_content()
    text = content if isinstance(content, str) else content.decode()
    # Staff may read what went out, but not use an account link (a reset signs in).
    return withhold_link(row.payload or {}, text)


@bp.route("/")
@roles_required(Role.STAFF)
def index():
    try:
        status = NotificationStatus(request.args.get("status", ""))
    except ValueError:  # no filter, or one that names no state: every message
        status = None
    return render_template(
        "outbox/index.html",
        messages=recent_messages(status),
        counts=counts_by_status(),
        status=status,
        form=ResendForm(),
        stored=not current_app.config["MAIL_SERVER"],
    )


@bp.route("/<int:notification_id>")
@roles_required(Role.STAFF)
def show_message(notification_id: int):
    row = get_message(notification_id)
    kept = read_kept(row)
    preview = kept is None
    try:
        message = kept or compose(row)
    except Exception as error:  # noqa: BLE001 - the page shows why it cannot be rendered
        message, problem = None, f"{type(error).__name__}: {error}"
    else:
        problem = None
    parts = []
    if message is not None:
        parts = [
            (part.get_content_type(), part.get_param("method"), _readable(row, part))
            for part in message.walk()
            if not part.is_multipart() and part.get_content_type() != "text/html"
        ]
    return render_template(
        "outbox/message.html",
        row=row,
        message=message,
        parts=parts,
        preview=preview,
        problem=problem,
        form=ResendForm(),
    )


@bp.route("/<int:notification_id>/resend", methods=["POST"])
@roles_required(Role.STAFF)
def resend(notification_id: int):
    row = get_message(notification_id)
    if ResendForm().validate_on_submit():
        if delivery.resend(row.id):
            current_app.extensions["portal_worker"].kick()
            flash(
                gettext("The message is back in line; the worker sends it in a moment."), "success"
            )
        else:
            flash(gettext("Only a failed or skipped message can be sent again."), "error")
    return redirect(url_for("outbox.show_message", notification_id=row.id))
