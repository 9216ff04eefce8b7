"""Every user-facing string is marked for translation and the catalogue extracts cleanly,
as `pybabel extract -F babel.cfg -k lazy_gettext portal` would (README's command)."""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}


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
