"""Memberships: the practitioner's plans and members; the client subscribes on Stripe and
manages their membership (pause, resume, cancel, another plan)."""

from flask import Blueprint

bp = Blueprint("memberships", __name__)

from . import views  # noqa: E402,F401
