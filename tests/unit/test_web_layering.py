"""Blueprints import the domain, the models and the web package; never one another, and they
are registered by explicit imports, not by name."""

from __future__ import annotations

import ast
from pathlib import Path

import portal

BLUEPRINTS = Path(portal.__file__).parent / "blueprints"


def _imported_modules(path: Path, root: Path) -> list[str]:
    """Every module a file under `root` (portal/blueprints) imports, as a dotted name."""
    # A file's relative imports start at its package (for __init__.py, its own folder).
    package = ["portal", *path.relative_to(root.parent).with_suffix("").parts[:-1]]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = [*base, *(node.module.split(".") if node.module else [])]
            # `from .. import calendar` names a module too.
            found += [".".join([*module, alias.name]) for alias in node.names]
            found.append(".".join(module))
    return found


def cross_blueprint_imports(root: Path = BLUEPRINTS) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        if path.parent == root:
            continue  # portal/blueprints/__init__.py registers them all
        own = path.relative_to(root).parts[0]
        for module in _imported_modules(path, root):
            parts = module.split(".")
            if parts[:2] == ["portal", "blueprints"] and len(parts) > 2 and parts[2] != own:
                problems.append(f"{path.relative_to(root.parent)} imports {module}")
    return problems


def test_no_blueprint_imports_another_blueprint():
    assert cross_blueprint_imports() == []


def test_the_check_sees_a_cross_blueprint_import(tmp_path):
    """The check above would fail on the imports it exists to forbid."""
    fake = tmp_path / "blueprints"
    (fake / "courses").mkdir(parents=True)
    (fake / "calendar").mkdir()
    (fake / "courses" / "views.py").write_text(
        "from ..calendar.queries import find_client\nfrom ...web import roles_required\n"
    )
    (fake / "calendar" / "views.py").write_text("from portal.blueprints.courses import bp\n")
    assert cross_blueprint_imports(fake) == [
        "blueprints/calendar/views.py imports portal.blueprints.courses.bp",
        "blueprints/calendar/views.py imports portal.blueprints.courses",
        "blueprints/courses/views.py imports portal.blueprints.calendar.queries.find_client",
        "blueprints/courses/views.py imports portal.blueprints.calendar.queries",
    ]


def test_blueprints_are_registered_by_explicit_imports():
    tree = ast.parse((BLUEPRINTS / "__init__.py").read_text())
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    used |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    used |= {alias.name for node in imports for alias in node.names}
    used |= {node.module for node in imports if isinstance(node, ast.ImportFrom) and node.module}
    assert not {"import_module", "importlib", "__import__"} & used
    # Each feature folder is imported by name, so a new one is one import and one line.
    features = {p.name for p in BLUEPRINTS.iterdir() if (p / "__init__.py").exists()}
    imported = {
        node.module for node in imports if isinstance(node, ast.ImportFrom) and node.level == 1
    }
    assert imported == features


def test_the_web_package_imports_no_blueprint():
    """The shared pieces sit below the blueprints: a blueprint registers what the web layer
    must know of it (the API's JSON error shape), never the other way round."""
    web = BLUEPRINTS.parent / "web"
    imported = [
        f"{path.name}: {module}"
        for path in sorted(web.rglob("*.py"))
        for module in _imported_modules(path, web)
        if module.startswith("portal.blueprints")
    ]
    assert imported == []
