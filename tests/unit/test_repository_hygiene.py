"""Guards for what no test of behaviour would notice: an unresolved merge conflict
in a template renders as text on every page; an import of a package that only the
developer's venv has fails CI's fresh install."""

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
MARKERS = ("<<<<<<< ", "\n=======\n", ">>>>>>> ")


def test_no_merge_conflict_markers_in_sources():
    suspects = [
        path.relative_to(ROOT)
        for pattern in ("portal/**/*", "tests/**/*.py", "bench/**/*.py", "README.md")
        for path in ROOT.glob(pattern)
        if path.is_file()
        and path.suffix in {".py", ".html", ".css", ".js", ".md", ".ini", ".mako"}
        and "vendor" not in path.parts
        and any(marker in path.read_text(errors="ignore") for marker in MARKERS)
        and path.name != "test_repository_hygiene.py"
    ]
    assert suspects == []


# --- every third-party import is declared ----------------------------------------------
# CI installs only what pyproject.toml declares: a package that happens to be in a
# developer's venv passes every local run and fails CI at collection.


def _declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(spec) for spec in project["dependencies"]]
    test = [
        Requirement(spec)
        for spec in project["optional-dependencies"]["test"]
        if not spec.startswith("portal")
    ]
    return runtime, runtime + test


def _closure(requirements: list[Requirement]) -> set[str]:
    """The declared distributions and everything they require, as installed here,
    following the extras each requirement names (whitenoise[brotli] brings brotli)."""
    seen: set[tuple[str, str]] = set()
    todo = [(req.name, extra) for req in requirements for extra in {"", *req.extras}]
    while todo:
        name, extra = todo.pop()
        key = (canonicalize_name(name), extra)
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for spec in requires:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
                todo += [(requirement.name, e) for e in {"", *requirement.extras}]
    return {name for name, _ in seen}


def _third_party_imports(folders: tuple[str, ...]) -> dict[str, set[str]]:
    """Top-level module -> files importing it, for modules outside the stdlib and repo."""
    local = {"portal", "tests", "bench"}
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            if "versions" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.partition(".")[0]
                    if top in sys.stdlib_module_names or top in local:
                        continue
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _undeclared(folders: tuple[str, ...], allowed: set[str]) -> dict[str, list[str]]:
    distributions = metadata.packages_distributions()
    missing = {}
    for module, files in _third_party_imports(folders).items():
        names = {canonicalize_name(d) for d in distributions.get(module, [module])}
        if not names & allowed:
            missing[module] = sorted(files)
    return missing


def test_the_application_imports_only_declared_packages():
    runtime, _ = _declared()
    assert _undeclared(("portal",), _closure(runtime)) == {}


def test_tests_and_benchmarks_import_only_declared_packages():
    _, with_test = _declared()
    # bench/ may use the dev extra's tools; what it imports from here on is checked too.
    dev = {"pyinstrument", "ruff"}
    assert _undeclared(("tests", "bench"), _closure(with_test) | dev) == {}


def test_the_import_check_sees_a_package_missing_from_pyproject():
    runtime, _ = _declared()
    without = [req for req in runtime if req.name != "standardwebhooks"]
    assert "standardwebhooks" in _undeclared(("portal",), _closure(without))
