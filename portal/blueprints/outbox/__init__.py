from flask import Blueprint

bp = Blueprint("outbox", __name__, url_prefix="/staff/outbox")

from . import views  # noqa: E402,F401
