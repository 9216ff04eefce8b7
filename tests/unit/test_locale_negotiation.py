"""Accept-Language against the supported formatting locales, along CLDR's fallback chain:
a region without its own entry gets its language's (or its parent region's) formats, not
the default's."""

from __future__ import annotations

import pytest

from portal.l10n import SUPPORTED_LOCALES, negotiate_locale


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ([("de-CH", 1)], "de_CH"),  # supported as it is
        ([("EN-gb", 1)], "en_GB"),
        ([("fr-CH", 1)], "fr_FR"),  # fr_CH -> fr, whose likely region is France
        ([("fr", 1)], "fr_FR"),
        ([("en-IN", 1)], "en_GB"),  # en_IN -> en_001, the parent of en_GB
        ([("es-AR", 1)], "es_MX"),  # es_AR -> es_419, the parent of es_MX
        ([("pt-AO", 1)], "pt_PT"),  # CLDR's exception: pt_AO's parent is pt_PT
        ([("nn-NO", 1)], "nb_NO"),  # nn -> no, the parent of nb
        ([("xx", 1), ("*", 1), ("de", 0.5)], "de_DE"),  # unknown tags are passed over
        ([("de", 0.5), ("fr-CH", 0.9)], "fr_FR"),  # the higher quality first
        ([("fr-CH", 0)], None),  # q=0: not acceptable
        ([("zh-TW", 1)], None),
    ],
)
def test_the_closest_supported_locale_is_chosen(header, chosen):
    assert negotiate_locale(header) == chosen
    assert chosen is None or chosen in SUPPORTED_LOCALES
