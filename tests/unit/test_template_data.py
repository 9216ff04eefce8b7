"""Templates get their data from views: no blueprint hands Jinja a global (a function one
blueprint registers for another's pages is a query hidden in a template), and templates compare
enum members, never a member's `.value` with a typed string."""

from __future__ import annotations

import re
from pathlib import Path

import portal
from portal.web.templates import model_enums

PORTAL = Path(portal.__file__).parent
TEMPLATES = PORTAL / "templates"
# Every way a blueprint can put a name into every template's namespace.
GLOBAL_HOOKS = re.compile(
    r"app_template_global|add_app_template_global|app_context_processor"
    r"|jinja_env\.globals|add_template_global|context_processor"
)
VALUE_COMPARISON = re.compile(r"\.value\s*([!=]=\s*[\"']|(not\s+)?in\s*\()")
ENUM_MEMBER = re.compile(r"\b([A-Z][A-Za-z]+)\.([A-Z][A-Z_]*)\b")


def _lines(paths, pattern):
    return [
        f"{path.relative_to(PORTAL)}:{n}: {line.strip()}"
        for path in paths
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]


def test_no_blueprint_registers_a_jinja_global():
    assert _lines(sorted((PORTAL / "blueprints").rglob("*.py")), GLOBAL_HOOKS) == []


def test_templates_compare_enum_members_not_values():
    assert _lines(sorted(TEMPLATES.rglob("*.html")), VALUE_COMPARISON) == []


def test_every_enum_member_a_template_names_exists():
    """An unknown attribute renders as Undefined, which equals nothing: a misspelt member
    would hide a button instead of failing."""
    enums = model_enums()
    unknown = [
        f"{path.relative_to(PORTAL)}: {name}.{member}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for name, member in ENUM_MEMBER.findall(path.read_text())
        if name in enums and member not in enums[name].__members__
    ]
    assert unknown == []


def test_templates_see_the_model_enums(app):
    globals_ = app.jinja_env.globals
    assert globals_["BookingStatus"] is portal.models.BookingStatus
    assert globals_["RoomState"] is portal.models.RoomState
    assert {"SessionStatus", "OrderStatus", "ServiceType", "WaitlistStatus"} <= set(globals_)
