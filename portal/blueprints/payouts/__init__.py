from flask import Blueprint

bp = Blueprint("payouts", __name__, url_prefix="/settings/payouts")

from . import views  # noqa: E402,F401
