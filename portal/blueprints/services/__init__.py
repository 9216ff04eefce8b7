from flask import Blueprint

bp = Blueprint("services", __name__, url_prefix="/practice/services")

from . import views  # noqa: E402,F401
