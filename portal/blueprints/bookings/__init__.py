from flask import Blueprint

bp = Blueprint("bookings", __name__, url_prefix="/bookings")

from . import views  # noqa: E402,F401
