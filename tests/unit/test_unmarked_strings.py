"""The Python and JavaScript twin of the template check in test_translation_catalogue.py:
no message a person reads leaves the code without going through gettext. In Python that
is what `flash`, `abort` (its description), a domain error, an API error, a form
validation error or an unsafe-URL refusal carries; in JavaScript, any text the scripts
put on the page, which comes from the template (data- attributes) instead."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"

# The translation functions: a message built inside one of them is marked.
MARKERS = {
    "_",
    "gettext",
    "ngettext",
    "pgettext",
    "npgettext",
    "lazy_gettext",
    "lazy_ngettext",
    "lazy_pgettext",
}
# Exception classes whose message is shown as it is, beside the domain errors (found below).
SHOWN_ERRORS = {"ApiError": 1, "ValidationError": 0, "UnsafeURL": 0, "JoinRefused": 0}
# Functions whose argument at that position (or keyword) is shown to a person.
SHOWN_CALLS = {
    "flash": (0, "message"),
    "abort": (1, "description"),
    "forbidden": (0, "message"),
    "error_response": (1, "message"),
}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def domain_error_classes(trees: dict[Path, ast.Module]) -> set[str]:
    """DomainError and every class that derives from it, wherever it is defined."""
    bases: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {n for n in map(_name, node.bases) if n}
    found = {"DomainError"}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found
        found |= more


def _prose(text: str) -> bool:
    return re.search(r"[^\W\d_]{2,}", text) is not None


class _Unmarked:
    """Does an expression build words that no translation function saw?"""

    def __init__(self, function: ast.AST | None):
        self.assignments: dict[str, list[ast.expr]] = {}
        for node in ast.walk(function) if function is not None else ():
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.assignments.setdefault(target.id, []).append(node.value)

    def __call__(self, node: ast.expr, seen: frozenset[str] = frozenset()) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str) and _prose(node.value)
        if isinstance(node, ast.JoinedStr):
            return any(self(value, seen) for value in node.values)
        if isinstance(node, ast.FormattedValue):
            return self(node.value, seen)
        if isinstance(node, ast.BinOp):
            return self(node.left, seen) or self(node.right, seen)
        if isinstance(node, ast.IfExp):
            return self(node.body, seen) or self(node.orelse, seen)
        if isinstance(node, ast.BoolOp):
            return any(self(value, seen) for value in node.values)
        if isinstance(node, ast.Call):
            if _name(node.func) in MARKERS:
                return False
            # "...".format(...) / "...".join(...): the literal is the message.
            if isinstance(node.func, ast.Attribute):
                return self(node.func.value, seen)
            return False
        if isinstance(node, ast.Name) and node.id not in seen:
            # A message put in a local first: look at what was put there.
            return any(self(value, seen | {node.id}) for value in self.assignments.get(node.id, ()))
        return False


def _shown_argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position and not isinstance(call.args[position], ast.Starred):
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def unmarked_messages(trees: dict[Path, ast.Module]) -> list[str]:
    shown = dict(SHOWN_CALLS)
    for name, position in SHOWN_ERRORS.items():
        shown[name] = (position, "message")
    for name in domain_error_classes(trees):
        shown[name] = (0, "message")
    found = []
    for path, tree in trees.items():
        functions = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        # The innermost function around each call decides which locals it may read.
        owner: dict[ast.AST, ast.AST] = {}
        for function in functions:
            for node in ast.walk(function):
                owner[node] = function
        checkers: dict[ast.AST | None, _Unmarked] = {}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func) not in shown:
                continue
            position, keyword = shown[_name(node.func)]
            argument = _shown_argument(node, position, keyword)
            function = owner.get(node)
            unmarked = checkers.setdefault(function, _Unmarked(function))
            if argument is not None and unmarked(argument):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.append(f"{where}: {ast.unparse(argument)[:90]}")
    return found


def _parse(source: str) -> dict[Path, ast.Module]:
    return {PORTAL / "example.py": ast.parse(source)}


def test_the_python_check_finds_unmarked_messages():
    source = """
class DomainError(Exception): ...
class SessionFull(DomainError): ...
class Later(SessionFull): ...

def view():
    flash(gettext("Saved."), "success")
    flash(_("%(n)d left") % {"n": 1})
    abort(404)
    abort(404, gettext("No such session."))
    raise SessionFull(ngettext("%(num)d seat", "%(num)d seats", 2))

def leaks(name):
    flash("Saved.", "success")
    abort(403, description=f"Not yours, {name}.")
    raise Later("The session is full.")

def via_a_local(ok):
    message = gettext("Done.") if ok else "Not done."
    flash(message)
    flash("{} left".format(3))
"""
    found = [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in unmarked_messages(_parse(source))]
    assert found == ["14", "15", "16", "20", "21"]


def test_no_python_message_is_unmarked():
    trees = {path: ast.parse(path.read_text(), str(path)) for path in sorted(PORTAL.rglob("*.py"))}
    found = unmarked_messages(trees)
    assert found == [], "unmarked messages in Python:\n" + "\n".join(found)


# -- JavaScript --------------------------------------------------------------------------

# Our own scripts (vendored libraries are not ours to translate).
SCRIPTS = PORTAL / "static" / "js"
JS_STRING = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`")
JS_COMMENT = re.compile(r"^\s*//.*$", re.M)
# Lines whose strings are code: selectors, classes, events, cookies, the strict pragma.
JS_CODE_LINE = re.compile(
    r"querySelector|getElementById|className|classList|addEventListener|cookie|\"use strict\""
)


# Selectors and lists of tag names: brackets, ids, attribute tests, "h1, h2, h3".
JS_SELECTOR = re.compile(r"[\[\]#=]|^\s*[\w-]+(?:\s*,\s*[\w-]+)*\s*,?\s*$")


def _words(text: str) -> bool:
    """Text a person would read: words with spaces around them, or a sentence's marks."""
    text = re.sub(r"\$\{[^}]*\}", "", text)
    if not _prose(text) or JS_SELECTOR.search(text):
        return False
    return re.search(r"\w\s+\S|\S\s+\w|^\s|\s$|[.…!?]$", text) is not None


def unmarked_js(source: str) -> list[tuple[int, str]]:
    source = JS_COMMENT.sub("", source)
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        if JS_CODE_LINE.search(line):
            continue
        for literal in JS_STRING.finditer(line):
            text = next(g for g in literal.groups() if g is not None)
            if _words(text):
                found.append((number, text))
    return found


def test_the_javascript_check_finds_unmarked_text():
    source = (
        "// Says what happens (a comment).\n"
        "say(phrases.textConnecting);\n"
        'say("Connecting…");\n'
        "note.textContent = `${count} people here`;\n"
        'tile.className = isLocal ? "tile local" : "tile";\n'
        'caption.textContent = name + " (you)";\n'
        'box.querySelector("#" + SLOT + " dialog");\n'
    )
    assert unmarked_js(source) == [(3, "Connecting…"), (4, "${count} people here"), (6, " (you)")]


def test_no_script_shows_unmarked_text():
    """The scripts show only text the page gave them (data-text-* attributes written with
    _()), so every word they show is in the catalogue and in the viewer's language."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in sorted(SCRIPTS.glob("*.js"))
        for line, text in unmarked_js(path.read_text())
    ]
    assert found == [], "unmarked text in scripts:\n" + "\n".join(found)


def test_every_phrase_the_join_script_says_is_on_the_page_translated():
    """join.js reads its phrases from the page: each one it names is a data-text-*
    attribute of join.html written with _(), and the page offers none it does not use."""
    script = (SCRIPTS / "join.js").read_text()
    page = (PORTAL / "templates" / "rooms" / "join.html").read_text()
    used = {
        re.sub(r"[A-Z]", lambda m: "-" + m.group(0).lower(), name)
        for name in re.findall(r"\bphrases\.text(\w+)", script)
    }
    offered = dict(re.findall(r"data-text(-[\w-]+)=\"(.*?)\"", page))
    assert used and used == offered.keys()
    assert all(value.startswith("{{ _(") for value in offered.values()), offered
