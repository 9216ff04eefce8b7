from flask import Blueprint

# The practitioner's own calendars (#22); `calendar` is the portal's schedule view.
bp = Blueprint("connected_calendars", __name__, url_prefix="/settings/calendars")

from . import views  # noqa: E402,F401
