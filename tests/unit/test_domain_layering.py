"""The booking domain's modules stand on floors that only point down.

Read from the source with ast, so a function-local import or a new cycle fails
here before it confuses a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

from portal import booking

PACKAGE = Path(booking.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def _tree(module: str) -> ast.Module:
    return ast.parse((PACKAGE / f"{module}.py").read_text(), filename=f"{module}.py")


def _imported_siblings(node: ast.ImportFrom) -> set[str]:
    """The package's own modules an `from . import x` / `from .x import y` names."""
    if node.level != 1:
        return set()
    if node.module:
        return {node.module.split(".")[0]}
    return {alias.name for alias in node.names if alias.name in MODULES}


def import_graph() -> dict[str, set[str]]:
    return {
        module: set().union(
            *(
                _imported_siblings(node)
                for node in ast.walk(_tree(module))
                if isinstance(node, ast.ImportFrom)
            )
        )
        for module in MODULES
    }


def _floor_of() -> dict[str, int]:
    return {module: n for n, floor in enumerate(booking.FLOORS) for module in floor}


def test_no_import_inside_a_function():
    found = []
    for module in [*MODULES, "__init__"]:
        for fn in ast.walk(_tree(module)):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        found.append(f"{module}.{getattr(fn, 'name', 'lambda')}:{node.lineno}")
    assert found == []


def test_every_module_stands_on_exactly_one_floor():
    listed = [module for floor in booking.FLOORS for module in floor]
    assert sorted(listed) == MODULES
    assert len(listed) == len(set(listed))


def test_a_module_imports_only_modules_on_lower_floors():
    floor = _floor_of()
    upward = sorted(
        f"{module} (floor {floor[module]}) imports {dep} (floor {floor[dep]})"
        for module, deps in import_graph().items()
        for dep in deps
        if floor[dep] >= floor[module]
    )
    assert upward == []


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == "open":
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return cycles


def test_the_import_graph_has_no_cycle():
    assert find_cycles(import_graph()) == []


def test_the_cycle_check_finds_the_circles_this_layering_replaced():
    before = {
        "seats": {"waitlist"},
        "waitlist": {"factory", "payments", "seats"},
        "factory": {"seats"},
        "payments": {"purchases", "waitlist"},
        "purchases": {"factory"},
        "attendance": {"lifecycle"},
        "lifecycle": {"attendance"},
    }
    found = {frozenset(cycle) for cycle in find_cycles(before)}
    assert frozenset({"seats", "waitlist"}) in found
    assert frozenset({"attendance", "lifecycle"}) in found


def test_the_docstring_names_the_floors_bottom_to_top():
    doc = booking.__doc__
    positions = [doc.index(f"{n}. {floor[0]}") for n, floor in enumerate(booking.FLOORS)]
    assert positions == sorted(positions)
    for floor in booking.FLOORS:
        for module in floor:
            assert module in doc


# The callers the facade serves: they come in through portal/booking/__init__.py alone.
CALLERS = ("blueprints", "web", "cli.py", "worker.py")


def _caller_files() -> list[Path]:
    root = PACKAGE.parent
    return sorted(
        path
        for name in CALLERS
        for path in ((root / name).rglob("*.py") if (root / name).is_dir() else [root / name])
    )


def doors_used(path: Path, source: str | None = None) -> list[str]:
    """Each way a module reaches past the facade: `from ..booking.holds import x`,
    `from ..booking import holds`, a name the facade does not export, `booking.holds.x`."""
    source = path.read_text() if source is None else source
    package = list(path.relative_to(PACKAGE.parent.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = [*base, *(node.module.split(".") if node.module else [])]
            if module[:2] == ["portal", "booking"] and len(module) > 2:
                found.append(f"{path.name}:{node.lineno} imports {'.'.join(module)}")
            elif module == ["portal", "booking"]:
                found += [
                    f"{path.name}:{node.lineno} imports booking.{alias.name}"
                    for alias in node.names
                    if alias.name in MODULES or alias.name not in booking.__all__
                ]
        elif isinstance(node, ast.Import):
            found += [
                f"{path.name}:{node.lineno} imports {alias.name}"
                for alias in node.names
                if alias.name.startswith("portal.booking.")
            ]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "booking"
            and node.attr in MODULES
        ):
            found.append(f"{path.name}:{node.lineno} reaches booking.{node.attr}")
    return found


def test_views_cli_and_worker_come_in_through_the_facade_alone():
    assert [door for path in _caller_files() for door in doors_used(path)] == []


def test_every_name_the_facade_exports_exists():
    assert [name for name in booking.__all__ if not hasattr(booking, name)] == []


def test_the_door_check_sees_each_way_past_the_facade():
    view = PACKAGE.parent / "blueprints" / "shop" / "views.py"
    source = "\n".join(
        [
            "from ... import booking",
            "from ...booking.holds import release_for_session",
            "from ...booking import reports",
            "from ...booking import lock_sessions",
            "import portal.booking.slots",
            "booking.timetable.create_course",
            "booking.purchase",
        ]
    )
    assert doors_used(view, source) == [
        "views.py:2 imports portal.booking.holds",
        "views.py:3 imports booking.reports",
        "views.py:4 imports booking.lock_sessions",
        "views.py:5 imports portal.booking.slots",
        "views.py:6 reaches booking.timetable",
    ]
