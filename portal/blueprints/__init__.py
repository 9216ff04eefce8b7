"""Every feature blueprint is registered here, one line each."""

from flask import Flask

from .accounts import bp as accounts_bp
from .api import bp as api_bp
from .attendance import bp as attendance_bp
from .audit import bp as audit_bp
from .auth import bp as auth_bp
from .availability import bp as availability_bp
from .bookings import bp as bookings_bp
from .calendar import bp as calendar_bp
from .clients import bp as clients_bp
from .connected_calendars import bp as connected_calendars_bp
from .courses import bp as courses_bp
from .feeds import bp as feeds_bp
from .home import bp as home_bp
from .intake import bp as intake_bp
from .memberships import bp as memberships_bp
from .notes import bp as notes_bp
from .notifications import bp as notifications_bp
from .orders import bp as orders_bp
from .outbox import bp as outbox_bp
from .packages import bp as packages_bp
from .passes import bp as passes_bp
from .payouts import bp as payouts_bp
from .public import bp as public_bp
from .rooms import bp as rooms_bp
from .services import bp as services_bp
from .shop import bp as shop_bp
from .tokens import bp as tokens_bp
from .users import bp as users_bp
from .webhooks import bp as webhooks_bp
from .webhooks_out import bp as webhooks_out_bp


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(home_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(rooms_bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(shop_bp)
    app.register_blueprint(bookings_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(services_bp)
    app.register_blueprint(availability_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(feeds_bp)
    app.register_blueprint(packages_bp)
    app.register_blueprint(passes_bp)
    app.register_blueprint(memberships_bp)
    app.register_blueprint(outbox_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(users_bp)
    app.register_blueprint(webhooks_out_bp)
    app.register_blueprint(connected_calendars_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(payouts_bp)
    app.register_blueprint(notes_bp)
    app.register_blueprint(clients_bp)
    app.register_blueprint(intake_bp)
