"""The web layer shared by every blueprint: sign-in loading and role checks (auth), "page or
fragment" (htmx), error rendering (errors), shared form pieces (forms), the lookup-and-permission
helpers (access), the slot picker, local times and the security headers.

A blueprint imports the domain, the models and this package; never another blueprint.
"""

from __future__ import annotations

from flask import Flask

from ..l10n import hour_label, text_language, weekday_names
from .auth import forget_user, load_user, roles_required, sign_in
from .confirm import confirm_page, is_confirmed
from .errors import flash_domain_error, register_error_pages
from .forms import saved_service, show_domain_error
from .htmx import is_htmx, render_page
from .localtime import (
    local_time,
    page_clock,
    timezone_groups,
    viewer_zone,
    visitor_zone_chosen,
    visitor_zone_name,
)
from .navigation import main_menu
from .rich_text import LINK_REL, markdown_to_html
from .security import IdConverter, register_security
from .templates import register_template_globals

__all__ = [
    "confirm_page",
    "is_confirmed",
    "flash_domain_error",
    "forget_user",
    "is_htmx",
    "load_user",
    "local_time",
    "page_clock",
    "register_web",
    "render_page",
    "roles_required",
    "saved_service",
    "show_domain_error",
    "sign_in",
    "viewer_zone",
]


def register_web(app: Flask) -> None:
    # Before any blueprint adds its rules, so every <int:...> in them is bounded.
    app.url_map.converters["int"] = IdConverter
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.globals["hour_label"] = hour_label
    app.jinja_env.globals["weekday_names"] = weekday_names
    app.jinja_env.globals["text_language"] = text_language
    app.jinja_env.globals["viewer_zone"] = viewer_zone
    app.jinja_env.globals["visitor_zone_name"] = visitor_zone_name
    app.jinja_env.globals["visitor_zone_chosen"] = visitor_zone_chosen
    app.jinja_env.globals["timezone_groups"] = timezone_groups
    app.jinja_env.filters["markdown"] = markdown_to_html
    app.jinja_env.globals["LINK_REL"] = LINK_REL
    # Templates ask the same question the views do, so a flash is shown in one place only.
    app.jinja_env.globals["is_htmx"] = is_htmx
    app.jinja_env.globals["main_menu"] = main_menu
    register_template_globals(app)
    register_security(app)
    register_error_pages(app)
