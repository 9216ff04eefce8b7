"""Guards for what no test of behaviour would notice: an unresolved merge conflict
in a template renders as text on every page."""

from pathlib import Path

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
