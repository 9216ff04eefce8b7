from flask import current_app, render_template, send_from_directory
from flask_login import current_user

from ... import profiles
from . import bp, queries


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return render_template("home/welcome.html", profiles=profiles.listed_profiles())
    if current_user.is_client:
        return render_template("home/client.html", home=queries.client_home(current_user))
    if current_user.is_practitioner:
        return render_template("home/dashboard.html", board=queries.dashboard(current_user))
    return render_template("home/staff.html", sessions=queries.upcoming_sessions())


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on their own, whatever the page links to."""
    return send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )
