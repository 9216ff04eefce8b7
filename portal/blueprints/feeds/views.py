from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm

from ...booking import DomainError
from ...calendar_feeds import feed_of, owner_of, revoke_feed, rotate_feed
from ...extensions import limiter
from ...models import Role
from ...web import roles_required
from ...web.errors import flash_domain_error
from . import bp
from .ics import build_feed

FEED_OWNERS = (Role.PRACTITIONER, Role.CLIENT)


def _page(new_token: str | None = None):
    feed_url = url_for("feeds.ics_feed", token=new_token, _external=True) if new_token else None
    webcal_url = "webcal://" + feed_url.split("://", 1)[1] if feed_url else None
    return render_template(
        "feeds/manage.html",
        feed=feed_of(current_user),
        feed_url=feed_url,
        webcal_url=webcal_url,
        form=FlaskForm(),
    )


@bp.route("/")
@roles_required(*FEED_OWNERS)
def manage_feed():
    return _page()


@bp.route("/rotate", methods=["POST"])
@roles_required(*FEED_OWNERS)
def rotate():
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        token = rotate_feed(current_user)
    except DomainError as error:
        flash_domain_error(error)
        return redirect(url_for("feeds.manage_feed"))
    # Rendered, not redirected: the secret is shown this once and never stored in clear.
    return _page(token)


@bp.route("/revoke", methods=["POST"])
@roles_required(*FEED_OWNERS)
def revoke():
    if not FlaskForm().validate_on_submit():
        abort(400)
    revoke_feed(current_user)
    flash(gettext("Your calendar feed is turned off; its URL no longer works."), "success")
    return redirect(url_for("feeds.manage_feed"))


@bp.route("/<token>.ics")
@limiter.limit("60 per minute", error_message=lambda: gettext("Too many requests for this feed."))
def ics_feed(token: str):
    owner = owner_of(token)
    if owner is None:
        abort(404)
    response = make_response(build_feed(owner))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="estuary.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
