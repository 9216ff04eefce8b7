"""portal's packages stand on floors too: the kernel at the bottom, notifications' outbox
(which the domain writes to) above it, the domain above that, the periodic jobs that read
the domain (reminders), the web and the worker on top. No import runs back up.

Read from the source with ast, like tests/unit/test_domain_layering.py does inside
portal/booking/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import portal

ROOT = Path(portal.__file__).parent

# Bottom to top. A module of a package may import its own package and packages on lower
# floors, never one on its own floor or above.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("core",),
    # The audit log's writer: every package that writes records through it.
    ("audit",),
    ("notifications",),
    ("booking",),
    # The client record reads bookings; nothing below it reads the record.
    ("reminders", "records"),
    # Data rights: exports and erasure read and cancel bookings and erase the record.
    ("privacy",),
    ("web",),
    ("blueprints", "cli", "worker"),
)

# What the kernel may stand on: the engine and the extensions, nothing that knows a model.
KERNEL_GROUND = {"core", "database", "extensions"}


def _modules(name: str) -> list[Path]:
    package = ROOT / name
    return sorted(package.rglob("*.py")) if package.is_dir() else [ROOT / f"{name}.py"]


def portal_imports(path: Path, source: str | None = None) -> set[str]:
    """The top-level names under portal/ that a module imports (`booking` for
    `from ..booking.holds import x`, `leases` for `from .. import leases`)."""
    source = path.read_text() if source is None else source
    package = list(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            dotted = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = [*base, *(node.module.split(".") if node.module else [])]
            dotted = [module] if len(module) > 1 else [[*module, a.name] for a in node.names]
        else:
            continue
        found |= {parts[1] for parts in dotted if parts[0] == "portal" and len(parts) > 1}
    return found


def upward_imports(floors=FLOORS, read=None) -> list[str]:
    floor_of = {name: n for n, floor in enumerate(floors) for name in floor}
    upward = []
    for name, floor in floor_of.items():
        for path in _modules(name):
            deps = portal_imports(path, read(path) if read else None)
            for dep in sorted(deps - {name}):
                if dep in floor_of and floor_of[dep] >= floor:
                    upward.append(f"{path.relative_to(ROOT)} imports {dep}")
    return upward


def test_no_import_runs_back_up():
    assert upward_imports() == []


def test_the_kernel_stands_on_the_database_plumbing_alone():
    found = {
        f"{path.relative_to(ROOT)} imports {dep}"
        for path in _modules("core")
        for dep in portal_imports(path) - KERNEL_GROUND
    }
    assert found == set()


def test_every_floor_names_a_module_that_exists():
    for floor in FLOORS:
        for name in floor:
            assert _modules(name), name


def test_the_check_sees_an_import_back_up():
    transactions = ROOT / "core" / "transactions.py"

    def read(path: Path) -> str:
        source = path.read_text()
        return source + "\nfrom ..booking import holds\n" if path == transactions else source

    assert upward_imports(read=read) == ["core/transactions.py imports booking"]


def test_the_check_sees_reminders_where_they_were():
    """Reminders read bookings; inside notifications, which booking writes to, that was
    an import running back up."""
    delivery = ROOT / "notifications" / "delivery.py"

    def read(path: Path) -> str:
        source = path.read_text()
        return (
            source + "\nfrom ..booking import credit_expires_at\n" if path == delivery else source
        )

    assert upward_imports(read=read) == ["notifications/delivery.py imports booking"]
