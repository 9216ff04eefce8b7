from flask import Blueprint

bp = Blueprint("notes", __name__, url_prefix="/notes")

from . import views  # noqa: E402,F401
