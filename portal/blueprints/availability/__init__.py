from flask import Blueprint

bp = Blueprint("availability", __name__, url_prefix="/practice/availability")

from . import views  # noqa: E402,F401
