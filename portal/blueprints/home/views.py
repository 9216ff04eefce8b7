from flask import current_app, render_template, send_from_directory
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ... import profiles
from ...database import utcnow
from ...extensions import db
from ...models import Booking, BookingStatus, ServiceSession, SessionStatus
from . import bp

UPCOMING_LIMIT = 10
UPCOMING_STATUSES = (SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS)


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return render_template("home/welcome.html", profiles=profiles.listed_profiles())
    now = utcnow()
    if current_user.is_client:
        bookings = db.session.scalars(
            select(Booking)
            .join(ServiceSession, Booking.service_session_id == ServiceSession.id)
            .where(
                Booking.user_id == current_user.id,
                Booking.status != BookingStatus.CANCELED,
                ServiceSession.start_time >= now,
                # A session run early is over even though its planned start is still ahead.
                ServiceSession.status.in_(UPCOMING_STATUSES),
            )
            .options(selectinload(Booking.service_session), selectinload(Booking.service))
            .order_by(ServiceSession.start_time)
            .limit(UPCOMING_LIMIT)
        ).all()
        return render_template("home/client.html", bookings=bookings)
    query = (
        select(ServiceSession)
        .where(ServiceSession.status == SessionStatus.SCHEDULED, ServiceSession.start_time >= now)
        .options(selectinload(ServiceSession.service), selectinload(ServiceSession.practitioner))
        .order_by(ServiceSession.start_time)
        .limit(UPCOMING_LIMIT)
    )
    if current_user.is_practitioner:
        query = query.where(ServiceSession.practitioner_id == current_user.id)
    return render_template("home/dashboard.html", sessions=db.session.scalars(query).all())


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on their own, whatever the page links to."""
    return send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )
