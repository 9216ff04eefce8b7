"""Intake forms: the practitioner builds them and reads the answers; the client answers
through an emailed link (or while booking, in the shop)."""

from flask import Blueprint

bp = Blueprint("intake", __name__, url_prefix="/intake")

from . import views  # noqa: E402,F401
