"""Every user-facing string is marked for translation and the catalogue extracts cleanly,
as `pybabel extract -F babel.cfg -k lazy_gettext portal` would (README's command)."""

from __future__ import annotations

import logging
import re
import warnings
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from flask_babel.speaklater import LazyString

import portal.models  # noqa: F401  (every enum defined, so every one is checked)
from portal.models.enums import StrEnum

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}

# Names that stay as they are in every language.
BRANDS = ("Estuary Portal",)
# Attributes whose value is read out or shown (data-label heads a stacked table cell on phones).
READ_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "data-label"}
# What Jinja writes: a {% trans %} block (marked), an expression, a statement, a comment.
# Each is replaced by its newlines, so line numbers stay right.
TRANS_BLOCK = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S)
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


@pytest.fixture(scope="module")
def extracted(request):
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        messages = list(
            extract_from_dir(ROOT / "portal", method_map, options_map, keywords=KEYWORDS)
        )
    return messages, caught


def msgids(messages) -> set[str]:
    ids = set()
    for _filename, _lineno, message, _comments, _context in messages:
        ids.update(message if isinstance(message, tuple) else (message,))
    return ids


def test_extraction_succeeds_without_warnings(extracted, caplog):
    messages, caught = extracted
    assert [str(w.message) for w in caught] == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(messages) > 300


def test_known_strings_are_in_the_catalogue(extracted):
    ids = msgids(extracted[0])
    for text in (
        "Profile settings",  # a template heading
        "Your profile is saved.",  # a flash
        "Date, time and number formats",  # a form label (lazy)
        "%(num)d seat left",  # a plural
        "Not a currency code: use the three letters of ISO 4217, e.g. USD, EUR or JPY.",
        "Free",
    ):
        assert text in ids, text


def test_every_message_formats_with_its_own_placeholders(extracted):
    """A stray % or a misspelt placeholder would break the page that shows the string."""
    for filename, lineno, message, _comments, _context in extracted[0]:
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                text % defaultdict(int)  # noqa: B018  (raises on a malformed placeholder)
                assert text == text.strip() or "\n" in text, f"{filename}:{lineno} {text!r}"


class _UnmarkedText(HTMLParser):
    """Text nodes and read attributes that still hold letters once Jinja is taken out: words
    written straight into the template, which no translation can reach."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._in_code = 0

    @staticmethod
    def _prose(text: str) -> bool:
        for brand in BRANDS:
            text = text.replace(brand, "")
        return re.search(r"[^\W\d_]", text) is not None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._in_code += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value and self._prose(value):
                self.found.append((self.getpos()[0], f"{name}={value!r}"))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._in_code -= 1

    def handle_data(self, data):
        if not self._in_code and self._prose(data):
            self.found.append((self.getpos()[0], data.strip()))


def unmarked_text(source: str) -> list[tuple[int, str]]:
    def blank(match):
        return "\n" * match.group(0).count("\n")

    parser = _UnmarkedText()
    parser.feed(JINJA.sub(blank, TRANS_BLOCK.sub(blank, source)))
    parser.close()
    return parser.found


def test_the_template_check_finds_unmarked_words():
    assert unmarked_text('<p>{{ _("Saved") }}</p><nav aria-label="{{ _(\'Main\') }}"></nav>') == []
    assert unmarked_text("<p>{% trans n=1 %}{{ n }} seat{% endtrans %} · Estuary Portal</p>") == []
    assert unmarked_text('<p>\n{{ x }} left</p>\n<a title="Edit {{ x }}">') == [
        (1, "left"),
        (3, "title='Edit '"),
    ]


def test_no_template_has_unmarked_words():
    """Every word a page shows or reads out, attributes included, goes through _() or
    {% trans %}; emails' HTML layout too (their text parts are Jinja text, extracted whole)."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in sorted((ROOT / "portal" / "templates").rglob("*.html"))
        for line, text in unmarked_text(path.read_text())
    ]
    assert found == [], "unmarked text in templates:\n" + "\n".join(found)


def _enums(cls=StrEnum):
    for sub in cls.__subclasses__():
        yield sub
        yield from _enums(sub)


def test_every_enum_label_is_a_lazy_catalogue_string(extracted):
    """Labels are translated when shown (in the viewer's locale), not when the module loads."""
    ids = msgids(extracted[0])
    for enum_cls in _enums():
        for member in enum_cls:
            assert isinstance(member.label, LazyString), member
            assert str(member.label) in ids, member
