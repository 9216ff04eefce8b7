from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ... import profiles
from ...booking import DomainError
from ...database import utcnow
from ...media import mimetype_of, photo_folder, too_large
from ...models import Role
from ...web import roles_required, show_domain_error
from ...web.localtime import ZONE_SESSION_KEY, readdressed
from ...web.public_page import present, structured_data
from ...web.security import accepts_upload, safe_next
from . import bp, queries
from .forms import LogoForm, PhotoForm, PublicPageForm, TimezoneForm

# Photo and colour URLs carry their content (hash, colour): a browser may keep them for good.
FOREVER = "public, max-age=31536000, immutable"


@bp.route("/p/<slug>")
def practitioner_page(slug: str):
    profile, current = profiles.find_by_slug(slug)
    if profile is None:
        abort(404)
    if not current:
        # A link shared under an earlier address: send it on, for good, to today's.
        return redirect(url_for("public.practitioner_page", slug=profile.slug), code=301)
    present(profile)
    services = queries.offered_services(profile.user)
    return render_template(
        "public/practitioner.html",
        profile=profile,
        practitioner=profile.user,
        services=services,
        sessions=queries.dated_sessions(services, utcnow()),
        structured_data=structured_data(profile, services),
    )


@bp.route("/media/photos/<name>")
def photo(name: str):
    """A practitioner's photo or logo (both live in the one folder, named by content)."""
    if not profiles.picture_in_use(name):
        abort(404)
    response = send_from_directory(
        photo_folder(current_app.config["PORTAL_MEDIA_DIR"]), name, mimetype=mimetype_of(name)
    )
    response.headers["Cache-Control"] = FOREVER
    return response


@bp.route("/brand/<slug>.css")
def brand_stylesheet(slug: str):
    """The practitioner's accent as the stylesheet's custom property: the CSP allows no inline
    style, and a file keyed by the colour (?v=) is cached like any other."""
    profile, _ = profiles.find_by_slug(slug)
    color = profile.accent_color if profile is not None else ""
    css = f":root {{ --accent: {color}; }}\n" if color else ""
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = FOREVER if request.args.get("v") == color else "no-cache"
    return response


@bp.route("/practice/public-page", methods=["GET", "POST"])
@roles_required(Role.PRACTITIONER)
def edit_public_page():
    profile = current_user.profile
    form = PublicPageForm(obj=profile)
    if form.validate_on_submit():
        try:
            profiles.save_public_profile(
                current_user,
                slug=form.slug.data,
                bio=(form.bio.data or "").strip(),
                details=form.details(),
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(gettext("Your public page is saved."), "success")
            return redirect(url_for("public.edit_public_page"))
    return _render_edit(form=form)


def _render_edit(*, form=None, photo_form=None, logo_form=None, status=200):
    profile = current_user.profile
    return render_template(
        "public/edit.html",
        # formdata=None: this may answer a body too large to read (_upload_too_large).
        form=form or PublicPageForm(formdata=None, obj=profile),
        photo_form=photo_form or PhotoForm(formdata=None),
        logo_form=logo_form or LogoForm(formdata=None),
        profile=profile,
    ), status


@bp.route("/practice/public-page/photo", methods=["POST"])
@roles_required(Role.PRACTITIONER)
@accepts_upload("PORTAL_PHOTO_MAX_BYTES")
def upload_photo():
    form = PhotoForm()
    if form.validate_on_submit():
        try:
            if form.remove.data:
                profiles.remove_photo(current_user)
            else:
                profiles.set_photo(current_user, form.photo.data.read())
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(gettext("Your photo is saved."), "success")
            return redirect(url_for("public.edit_public_page"))
    return _render_edit(photo_form=form, status=422)


@bp.route("/practice/public-page/logo", methods=["POST"])
@roles_required(Role.PRACTITIONER)
@accepts_upload("PORTAL_PHOTO_MAX_BYTES")
def upload_logo():
    form = LogoForm()
    if form.validate_on_submit():
        try:
            if form.remove_logo.data:
                profiles.remove_logo(current_user)
            else:
                profiles.set_logo(current_user, form.logo.data.read())
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(gettext("Your logo is saved."), "success")
            return redirect(url_for("public.edit_public_page"))
    return _render_edit(logo_form=form, status=422)


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(error):
    """An oversize photo is refused before it is read: said next to the field, not on an
    error page."""
    if not current_user.is_authenticated:
        raise error
    message = too_large(current_app.config["PORTAL_PHOTO_MAX_BYTES"])
    if request.endpoint == "public.upload_photo":
        photo_form = PhotoForm(formdata=None)
        photo_form.photo.errors = [message]
        return _render_edit(photo_form=photo_form, status=413)
    if request.endpoint == "public.upload_logo":
        logo_form = LogoForm(formdata=None)
        logo_form.logo.errors = [message]
        return _render_edit(logo_form=logo_form, status=413)
    raise error


@bp.route("/sitemap.xml")
def sitemap():
    listed = profiles.listed_profiles()
    services = queries.listed_service_ids([p.user_id for p in listed])
    response = Response(
        render_template("public/sitemap.xml", listed=listed, services=services),
        mimetype="application/xml",
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/robots.txt")
def robots():
    body = "User-agent: *\nDisallow: /practice/\nSitemap: {}\n".format(
        url_for("public.sitemap", _external=True)
    )
    response = Response(body, mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/timezone", methods=["POST"])
def choose_timezone():
    """A visitor's timezone when their browser did not tell us (no JavaScript), remembered in
    their session."""
    form = TimezoneForm()
    target = safe_next(form.next.data) or url_for("home.index")
    if form.validate_on_submit():
        session[ZONE_SESSION_KEY] = form.timezone.data
        target = readdressed(target, form.timezone.data)
    else:
        flash(gettext("Pick a timezone from the list."), "error")
    return redirect(target)
