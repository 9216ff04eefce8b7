from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_login import current_user

from ... import profiles
from ...booking import DomainError
from ...database import utcnow
from ...models import Role
from ...web import roles_required, show_domain_error
from ...web.localtime import ZONE_SESSION_KEY
from ...web.security import safe_next
from . import bp, queries
from .forms import PublicPageForm, TimezoneForm


@bp.route("/p/<slug>")
def practitioner_page(slug: str):
    profile, current = profiles.find_by_slug(slug)
    if profile is None:
        abort(404)
    if not current:
        # A link shared under an earlier address: send it on, for good, to today's.
        return redirect(url_for("public.practitioner_page", slug=profile.slug), code=301)
    services = queries.offered_services(profile.user)
    return render_template(
        "public/practitioner.html",
        profile=profile,
        practitioner=profile.user,
        services=services,
        sessions=queries.dated_sessions(services, utcnow()),
    )


@bp.route("/practice/public-page", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def edit_public_page():
    profile = current_user.profile
    form = PublicPageForm(obj=profile)
    if form.validate_on_submit():
        try:
            profiles.save_public_profile(
                current_user, slug=form.slug.data, bio=(form.bio.data or "").strip()
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(gettext("Your public page is saved."), "success")
            return redirect(url_for("public.edit_public_page"))
    return render_template("public/edit.html", form=form, profile=current_user.profile)


@bp.route("/timezone", methods=["POST"])
def choose_timezone():
    """A visitor's timezone when their browser did not tell us (no JavaScript), remembered in
    their session."""
    form = TimezoneForm()
    if form.validate_on_submit():
        session[ZONE_SESSION_KEY] = form.timezone.data
    else:
        flash(gettext("Pick a timezone from the list."), "error")
    return redirect(safe_next(form.next.data) or url_for("home.index"))
