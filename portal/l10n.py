"""Dates, times and money as a person reads them: in their zone and their locale.

Every instant and amount shown to a person goes through here (pages through the
`localtime` filter and the models' price texts, emails in the recipient's zone and locale), so the
12/24-hour clock, the order of day and month and a currency's decimals follow the locale
and nothing builds a date by hand. Machine formats (ISO in attributes and URLs, ICS, the
API, CSV) do not come here.

The locale chooses the words (German, Spanish and French have catalogues in
portal/translations; the other languages read English) and, every one of them, how a
date, a time or a price is written: en_GB, de_DE or ja_JP each their own way.
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import cache
from importlib.resources import files
from typing import Literal, cast
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale, UnknownLocaleError
from babel.core import get_global, parse_locale
from babel.dates import (
    format_date,
    format_datetime,
    format_interval,
    format_time,
    get_day_names,
    match_skeleton,
)
from babel.numbers import format_currency, get_territory_currencies
from flask_babel import get_locale, gettext, lazy_gettext

from .money import from_minor

DEFAULT_LOCALE = "en"

# Offered on the profile page and matched against Accept-Language.
SUPPORTED_LOCALES = (
    "en_US",
    "en_GB",
    "en_AU",
    "en_CA",
    "en_IE",
    "en_NZ",
    "de_DE",
    "de_AT",
    "de_CH",
    "fr_FR",
    "fr_CA",
    "es_ES",
    "es_MX",
    "it_IT",
    "nl_NL",
    "pt_PT",
    "pt_BR",
    "sv_SE",
    "da_DK",
    "nb_NO",
    "fi_FI",
    "pl_PL",
    "ja_JP",
)

# A named format is a date part (a CLDR skeleton, or "full") and a time part (Babel's
# "short", hours and minutes, or "medium", with seconds); the locale picks the pattern,
# so "time" is "2:00 PM" in en_US and "14:00" in en_GB.
FORMATS: dict[str, tuple[str | None, str | None]] = {
    "datetime": ("yMMMEd", "short"),
    "date": ("yMMMd", None),
    "weekday-date": ("yMMMEd", None),
    "long-date": ("full", None),
    "long-datetime": ("full", "short"),
    "day-month": ("MMMEd", None),
    "long-day-month": ("MMMMEEEEd", None),
    "short-day-month": ("MMMd", None),
    "day-month-time": ("MMMEd", "short"),
    "day-month-seconds": ("MMMd", "medium"),
    "month": ("yMMMM", None),
    "weekday": ("EEE", None),
    "time": (None, "short"),
    "time-seconds": (None, "medium"),
}
# The local calendar day as ISO 8601: for URLs and form values, never for reading.
ISO_DATE = "iso-date"


@cache
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@cache
def translated_languages() -> frozenset[str]:
    """The languages with a compiled catalogue in portal/translations (English has none:
    its words are the messages themselves)."""
    folder = files("portal") / "translations"
    return frozenset(
        entry.name
        for entry in folder.iterdir()
        if (entry / "LC_MESSAGES" / "messages.mo").is_file()
    )


def text_language(locale: Locale | str | None = None) -> str:
    """The language a page or an email in `locale` (else the request's) is written in, for
    its lang attribute: the locale's own when it has a catalogue, else English, which a
    ja_JP viewer reads with Japanese dates."""
    language = _locale_of(locale).language
    return language if language in translated_languages() else DEFAULT_LOCALE


def _locale_of(locale: Locale | str | None) -> Locale:
    """The given locale, else the request's (Flask-Babel's selector), else the default."""
    return _locale(str(locale or get_locale() or DEFAULT_LOCALE))


def _parents(name: str) -> list[str]:
    """CLDR's fallback chain below the root: fr_CH, fr; en_IN, en_001, en; pt_AO, pt_PT, pt."""
    chain = [name]
    exceptions = get_global("parent_exceptions")
    while True:
        parent = exceptions.get(name) or (name.rpartition("_")[0] or None)
        if parent is None or parent == "root":
            return chain
        chain.append(parent)
        name = parent


def _likely(language: str) -> str:
    """A bare language's most likely locale: fr is fr_FR, en is en_US, pt is pt_BR."""
    tag, territory, _script, *_ = parse_locale(get_global("likely_subtags").get(language, language))
    return f"{tag}_{territory}" if territory else tag


def negotiate_locale(preferred: list[tuple[str, float]]) -> str | None:
    """The supported locale closest to the best of a browser's preferences (Accept-Language
    tags with their quality): each tag's CLDR chain is walked until a supported locale
    shares a step of it, so fr-CH gets fr_FR, en-IN en_GB (both en_001), pt-AO pt_PT."""
    chains = {name: _parents(name) for name in SUPPORTED_LOCALES}
    for tag, quality in sorted(preferred, key=lambda pair: -pair[1]):
        if quality <= 0:
            continue
        try:
            name = str(Locale.parse(tag.replace("-", "_")))
        except (ValueError, UnknownLocaleError):
            continue  # "*" or a tag CLDR does not know
        for step in _parents(name):
            if "_" not in step and _likely(step) in chains:
                return _likely(step)
            for supported, chain in chains.items():
                if step in chain:
                    return supported
    return None


def locale_choices() -> list[tuple[str, str]]:
    """Each supported locale named in its own language: "Deutsch (Deutschland)"."""
    return [(name, _locale(name).get_display_name(name) or name) for name in SUPPORTED_LOCALES]


def format_moment(
    moment: datetime | date | time,
    name: str = "datetime",
    zone: ZoneInfo | None = None,
    locale=None,
) -> str:
    """An instant (shown in `zone`), a calendar day or a wall-clock time, in one of FORMATS."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(zone or ZoneInfo("UTC"))
    if name == ISO_DATE:
        return (moment.date() if isinstance(moment, datetime) else moment).isoformat()
    if name not in FORMATS:
        raise ValueError(f"unknown date format {name!r}; one of {sorted(FORMATS)}")
    loc = _locale_of(locale)
    date_pattern, time_pattern, joined = _patterns(loc, name)
    day_text = time_text = ""
    if FORMATS[name][0] == "full":
        # A "full" format always has a day part, and its caller passes a day or an instant.
        day_text = format_date(cast(date, moment), cast(str, date_pattern), locale=loc)
    elif date_pattern:
        day_text = format_datetime(moment, date_pattern, locale=loc)
    if time_pattern:
        time_text = format_time(cast("time | datetime", moment), time_pattern, locale=loc)
    if day_text and time_text:
        return joined.replace("{1}", day_text).replace("{0}", time_text)
    return day_text or time_text


@cache
def _patterns(loc: Locale, name: str) -> tuple[str | None, str | None, str]:
    """A named format's date and time patterns and their joiner, resolved once per locale:
    matching a skeleton against the locale's patterns costs more than the formatting itself,
    and a calendar page formats hundreds of moments with the same few names."""
    date_part, time_part = FORMATS[name]
    date_pattern = None
    if date_part == "full":
        date_pattern = loc.date_formats["full"].pattern
    elif date_part:
        skeletons = loc.datetime_skeletons
        # What format_skeleton does on each call, once.
        skeleton = date_part
        if skeleton not in skeletons:
            skeleton = match_skeleton(skeleton, skeletons) or skeleton
        date_pattern = skeletons[skeleton].pattern
    time_pattern = loc.time_formats[time_part].pattern if time_part else None
    return date_pattern, time_pattern, loc.datetime_formats["medium"]


def weekday_names(locale=None, width: Literal["abbreviated", "wide"] = "abbreviated") -> list[str]:
    """Monday to Sunday, abbreviated (or "wide") the locale's way (the calendars' weeks
    start Monday)."""
    names = get_day_names(width, locale=_locale_of(locale))
    return [names[day] for day in range(7)]


def hour_label(hour: int, locale=None) -> str:
    """A whole hour of the clock, for a grid's rows: "9:00 AM" or "09:00"."""
    return format_moment(time(hour), "time", locale=locale)


def format_day_range(first: date, last: date, locale=None) -> str:
    """Two calendar days, the shared month and year said once: "30 Nov – 6 Dec 2026"."""
    return format_interval(first, last, "yMMMd", locale=_locale_of(locale))


# A zone's first part, as the pickers group them (tzdb's "America" holds both continents).
ZONE_REGIONS = {
    "Africa": lazy_gettext("Africa"),
    "America": lazy_gettext("Americas"),
    "Antarctica": lazy_gettext("Antarctica"),
    "Arctic": lazy_gettext("Arctic"),
    "Asia": lazy_gettext("Asia"),
    "Atlantic": lazy_gettext("Atlantic Ocean"),
    "Australia": lazy_gettext("Australia"),
    "Europe": lazy_gettext("Europe"),
    "Indian": lazy_gettext("Indian Ocean"),
    "Pacific": lazy_gettext("Pacific Ocean"),
}


def _tzdata_text(name: str) -> str:
    return (files("tzdata.zoneinfo") / name).read_text(encoding="utf-8")


@cache
def canonical_zones() -> frozenset[str]:
    """The zones a person is offered: tzdb's zones of countries and regions (zone.tab and
    zone1970.tab, from the `tzdata` package), and UTC. Not its aliases (GB-Eire,
    US/Eastern), its fixed offsets (Etc/GMT+5) or its placeholders (Factory, localtime)."""
    names = {"UTC"}
    for table in ("zone.tab", "zone1970.tab"):
        for line in _tzdata_text(table).splitlines():
            if line and not line.startswith("#"):
                names.add(line.split("\t")[2])
    return frozenset(names & (available_timezones() | {"UTC"}))


@cache
def _zone_links() -> dict[str, str]:
    """tzdb's aliases ("L target alias" lines of tzdata.zi): GB-Eire is Europe/London."""
    links = {}
    for line in _tzdata_text("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            links[alias] = target
    return links


def canonical_zone(name: str | None) -> str | None:
    """The offered zone a name stands for: itself, or the zone an old alias links to
    (Asia/Calcutta is Asia/Kolkata, Etc/UTC and Zulu are UTC); None for anything else."""
    name = (name or "").strip()
    for _ in range(4):  # an alias may link to an alias (a short chain at most)
        if name in canonical_zones():
            return name
        if name in ("Etc/UTC", "Etc/GMT"):
            return "UTC"
        name = _zone_links().get(name, "")
    return None


def zone_label(name: str) -> str:
    """A zone as a picker lists it under its region: "Argentina / Buenos Aires"."""
    return name.partition("/")[2].replace("_", " ").replace("/", " / ") or name


def zone_groups(guess: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The offered zones grouped by region, each as (value, label): first the guessed
    zone (the person's own, or their browser's) and UTC, then each region's zones by name."""
    first = [z for z in dict.fromkeys((canonical_zone(guess), "UTC")) if z]
    regions: dict[str, list[tuple[str, str]]] = {key: [] for key in ZONE_REGIONS}
    for name in sorted(canonical_zones() - set(first)):
        regions[name.partition("/")[0]].append((name, zone_label(name)))
    return [
        (str(gettext("Suggested")), [(z, z.replace("_", " ")) for z in first]),
        *((str(ZONE_REGIONS[key]), zones) for key, zones in regions.items() if zones),
    ]


CURRENCY_PROBLEM = lazy_gettext(
    "Not a currency code: use the three letters of ISO 4217, e.g. USD, EUR or JPY."
)


@cache
def legal_tender() -> frozenset[str]:
    """The currencies some country pays in today (CLDR's tender, as Babel has it): ISO 4217
    also codes gold (XAU), testing (XTS) and "no currency" (XXX), which no one pays a
    practitioner in, and currencies since replaced (SLL)."""
    today = date.today()
    return frozenset(
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, start_date=today, tender=True)
    )


def normalize_currency(code: str | None) -> str | None:
    """The ISO 4217 code for what someone typed ("eur " is EUR), or None if it is none
    (or no legal tender)."""
    code = (code or "").strip().upper()
    return code if code in legal_tender() else None


def format_money(minor: int, currency: str, locale=None) -> str:
    """An amount stored in the currency's minor unit (portal/money.py), written with the
    currency's own decimals: "$12.50", "12,50 €", "¥1,200", "KWD 12.345"."""
    return format_currency(from_minor(minor, currency), currency, locale=_locale_of(locale))
