"""Every feature blueprint is registered here, one line each."""

from importlib import import_module

from flask import Flask

BLUEPRINT_MODULES = (
    "home",
    "auth",
    "rooms",
    "webhooks",
    "tokens",
    "api",
    "attendance",
    "catalog",
    "bookings",
    "orders",
    "calendar",
    "offerings",
    "availability",
    "courses",
    "feeds",
    "packages",
)


def register_blueprints(app: Flask) -> None:
    for name in BLUEPRINT_MODULES:
        app.register_blueprint(import_module(f"{__name__}.{name}").bp)
