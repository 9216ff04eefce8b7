"""Class passes: the practitioner defines one; the client buys it, sees its credits and takes
seats in group sessions with them."""

from flask import Blueprint

bp = Blueprint("passes", __name__)

from . import views  # noqa: E402,F401
