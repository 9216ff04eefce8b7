"""List what a catalogue still lacks, write translations into it, check it.

The catalogues are portal/translations/<lang>/LC_MESSAGES/messages.po (README, Development,
"Add a translation"). After `pybabel update` has brought new strings in, a translator (or
the lead) runs:

    .venv/bin/python scripts/translations.py todo de > todo.json     # untranslated or fuzzy
    # ... fills in the values of todo.json ...
    .venv/bin/python scripts/translations.py apply de todo.json     # writes them, compiles
    .venv/bin/python scripts/translations.py check                  # what the test checks

`todo` writes a JSON object {msgid: ""} ({msgid: ["", ""]} for a plural: one string per
plural form of the language, in the order of its Plural-Forms header), with the English
plural and the source locations alongside under "_about". `apply` takes the same shape
("_about" is ignored), so applying twice changes nothing. A translation whose placeholders
differ from the English is refused, and nothing is written while any is.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "portal" / "translations"
# Python's %(name)s and %d, str.format's {name}, and the few HTML tags a message might hold.
PLACEHOLDER = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]|\{[A-Za-z_]\w*\}"
    r"|</?(?:a|b|i|em|strong|code|br|span|p)\b[^>]*>"
)


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def languages() -> list[str]:
    return sorted(path.parents[1].name for path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def load(lang: str) -> Catalog:
    with po_path(lang).open("rb") as file:
        return read_po(file, locale=lang)


def placeholders(text: str) -> list[str]:
    return sorted(match for match in PLACEHOLDER.findall(text) if match != "%%")


def forms(message: Message) -> list[str]:
    if isinstance(message.string, (list, tuple)):
        return list(message.string)
    return [message.string or ""]


def problems(catalog: Catalog, message: Message) -> list[str]:
    """What is wrong with one message's translation: missing, fuzzy, a plural form short,
    a placeholder that differs from the English (babel's own checkers, then an exact
    comparison, which babel leaves lenient), or a form its plural rule never picks."""
    found = []
    english = message.id if isinstance(message.id, (list, tuple)) else (message.id,)
    strings = forms(message)
    if "fuzzy" in message.flags:
        found.append("fuzzy")
    if not all(strings):
        found.append("untranslated")
        return found
    found += [str(error) for error in message.check(catalog)]
    # Every plural form keeps the placeholders of the English plural (French's first form
    # also serves 0, so it cannot drop the number).
    reference = placeholders(english[-1])
    for number, text in enumerate(strings):
        if placeholders(text) != reference:
            found.append(f"placeholders differ in form {number}: {text!r}")
    return found


def cmd_todo(lang: str) -> int:
    catalog = load(lang)
    todo: dict[str, object] = {}
    about: dict[str, object] = {}
    for message in catalog:
        if not message.id or ("fuzzy" not in message.flags and all(forms(message))):
            continue
        key = message.id[0] if message.pluralizable else message.id
        todo[key] = [""] * catalog.num_plurals if message.pluralizable else ""
        about[key] = {
            "plural": message.id[1] if message.pluralizable else None,
            "locations": [f"{file}:{line}" for file, line in message.locations][:3],
        }
    json.dump({"_about": about, **todo}, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    print(f"{len(todo)} to translate in {lang}", file=sys.stderr)
    return 0


def cmd_apply(lang: str, source: Path) -> int:
    catalog = load(lang)
    given = json.loads(source.read_text())
    given.pop("_about", None)
    errors = []
    changed = 0
    for key, value in given.items():
        message = catalog.get(key)
        if message is None:
            errors.append(f"not in the catalogue: {key!r}")
            continue
        if not value or (isinstance(value, list) and not all(value)):
            continue
        if message.pluralizable != isinstance(value, list):
            errors.append(f"give {'a list' if message.pluralizable else 'a string'}: {key!r}")
            continue
        new = tuple(value) if isinstance(value, list) else value
        if new != message.string or "fuzzy" in message.flags:
            message.string = new
            message.flags.discard("fuzzy")
            changed += 1
        errors += [f"{key!r}: {problem}" for problem in problems(catalog, message)]
    if errors:
        print("\n".join(errors), file=sys.stderr)
        print(f"nothing written to {po_path(lang)}", file=sys.stderr)
        return 1
    save(catalog, lang)
    print(f"{changed} changed in {lang}", file=sys.stderr)
    return 0


def save(catalog: Catalog, lang: str) -> None:
    """The .po as pybabel writes it (76 columns), and its .mo, so the two never disagree."""
    buffer = BytesIO()
    write_po(buffer, catalog, width=76)
    po_path(lang).write_bytes(buffer.getvalue())
    with po_path(lang).with_suffix(".mo").open("wb") as file:
        write_mo(file, catalog)


def cmd_check() -> int:
    bad = 0
    for lang in languages():
        catalog = load(lang)
        for message in catalog:
            if message.id:
                for problem in problems(catalog, message):
                    bad += 1
                    print(f"{lang}: {message.id!r}: {problem}")
    print(f"{bad} problems in {', '.join(languages())}", file=sys.stderr)
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("todo", help="untranslated or fuzzy messages, as JSON").add_argument("lang")
    apply = commands.add_parser("apply", help="write translations from a JSON file")
    apply.add_argument("lang")
    apply.add_argument("source", type=Path)
    commands.add_parser("check", help="every catalogue complete and its placeholders right")
    args = parser.parse_args(argv)
    if args.command == "todo":
        return cmd_todo(args.lang)
    if args.command == "apply":
        return cmd_apply(args.lang, args.source)
    return cmd_check()


if __name__ == "__main__":
    sys.exit(main())
