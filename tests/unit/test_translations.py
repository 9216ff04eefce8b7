"""The German, Spanish and French catalogues are whole and current: every message the code
marks is in each one, translated (not fuzzy), with the English's placeholders, plural forms
right, and the compiled .mo (what Flask-Babel reads) says what the .po says. When this
fails after strings were added, README, Development, "Translations", says what to run.
The checks are scripts/translations.py's, so `python scripts/translations.py check` and
this test agree."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo

from portal.l10n import text_language
from tests.unit.test_translation_catalogue import extracted, msgids  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("de", "es", "fr")

_spec = importlib.util.spec_from_file_location("translations", ROOT / "scripts/translations.py")
assert _spec is not None and _spec.loader is not None
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def _ids(catalog: Catalog) -> set[str]:
    return msgids((None, None, message.id, None, None) for message in catalog if message.id)


def test_every_language_has_a_catalogue():
    assert set(LANGUAGES) <= set(tool.languages())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogue_holds_exactly_the_marked_messages(lang, extracted):  # noqa: F811
    """A message marked since the last `pybabel update` is missing here; one no longer
    marked is still here (update marks it obsolete, which takes it out of the catalogue)."""
    marked, catalogue = msgids(extracted[0]), _ids(tool.load(lang))
    assert sorted(marked - catalogue) == [], "run pybabel extract and update (README)"
    assert sorted(catalogue - marked) == [], "run pybabel extract and update (README)"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(lang):
    catalog = tool.load(lang)
    found = [
        f"{message.id!r}: {problem}"
        for message in catalog
        if message.id
        for problem in tool.problems(catalog, message)
    ]
    assert found == [], f"{lang}: python scripts/translations.py todo {lang} (README)"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalogue_says_what_the_source_says(lang):
    def translations(catalog: Catalog) -> dict:
        return {
            # read_mo gives a plural's id as a list.
            (tuple(message.id) if message.pluralizable else message.id): tuple(tool.forms(message))
            for message in catalog
            if message.id and all(tool.forms(message)) and "fuzzy" not in message.flags
        }

    with tool.po_path(lang).with_suffix(".mo").open("rb") as file:
        compiled = read_mo(file)
    assert translations(compiled) == translations(tool.load(lang)), "run pybabel compile"


def test_plural_forms_follow_each_language():
    """German has two forms; CLDR gives Spanish and French a third, for millions
    ("un million de places"), which gettext picks with the header's rule."""
    assert {lang: tool.load(lang).num_plurals for lang in LANGUAGES} == {"de": 2, "es": 3, "fr": 3}
    french = tool.load("fr")
    assert french.plural_expr.startswith("(n == 0 || n == 1)")  # 0 and 1 are singular


def test_the_checks_catch_what_they_are_for():
    catalog = Catalog(locale="de")
    cases = {
        "missing": ("Unknown timezone %(timezone)s.", ""),
        "renamed": ("Unknown timezone %(timezone)s.", "Unbekannte Zeitzone %(zone)s."),
        "dropped": ("Unknown timezone %(timezone)s.", "Unbekannte Zeitzone."),
        "added": ("Saved.", "%(name)s gespeichert."),
        "tag": ("Your address is <strong>%(e)s</strong>.", "Ihre Adresse ist %(e)s."),
        "plural": (("%(num)d seat", "%(num)d seats"), ("%(num)d Platz",)),
    }
    for name, (english, german) in cases.items():
        message = catalog.add(english, german, flags=["python-format"], context=name)
        assert message is not None
        assert tool.problems(catalog, message), name
    fuzzy = catalog.add("Saved.", "Gespeichert.", flags=["fuzzy"], context="fuzzy")
    assert fuzzy is not None and tool.problems(catalog, fuzzy) == ["fuzzy"]
    right = catalog.add(
        ("%(num)d seat", "%(num)d seats"),
        ("%(num)d Platz", "%(num)d Plätze"),
        flags=["python-format"],
        context="right",
    )
    assert right is not None and tool.problems(catalog, right) == []


def test_a_page_says_which_language_its_words_are_in():
    """The lang attribute of pages and emails: a screen reader reads German words with a
    German voice; a Japanese viewer gets Japanese dates but English words."""
    assert [text_language(x) for x in ("de_AT", "es_MX", "fr_CA", "en_GB", "ja_JP", "it_IT")] == [
        "de",
        "es",
        "fr",
        "en",
        "en",
        "en",
    ]
