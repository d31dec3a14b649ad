"""Continents (UN M49 regions) and sub-regions of countries, from the generated table in regions_data.py."""

from functools import lru_cache

from flask_babel import lazy_gettext as _l

from .regions_data import REGIONS

# The M49 regions in the order a report lists them; codes unknown to the table fall under UNKNOWN.
CONTINENTS = ("Africa", "Americas", "Asia", "Europe", "Oceania", "Antarctica")
UNKNOWN = "Unknown"

CONTINENT_LABELS = {
    "Africa": _l("Africa"),
    "Americas": _l("Americas"),
    "Asia": _l("Asia"),
    "Europe": _l("Europe"),
    "Oceania": _l("Oceania"),
    "Antarctica": _l("Antarctica"),
    UNKNOWN: _l("Other or unknown"),
}

SUBREGION_LABELS = {
    "Australia and New Zealand": _l("Australia and New Zealand"),
    "Caribbean": _l("Caribbean"),
    "Central America": _l("Central America"),
    "Central Asia": _l("Central Asia"),
    "Eastern Africa": _l("Eastern Africa"),
    "Eastern Asia": _l("Eastern Asia"),
    "Eastern Europe": _l("Eastern Europe"),
    "Melanesia": _l("Melanesia"),
    "Micronesia": _l("Micronesia"),
    "Middle Africa": _l("Middle Africa"),
    "Northern Africa": _l("Northern Africa"),
    "Northern America": _l("Northern America"),
    "Northern Europe": _l("Northern Europe"),
    "Polynesia": _l("Polynesia"),
    "South America": _l("South America"),
    "South-eastern Asia": _l("South-eastern Asia"),
    "Southern Africa": _l("Southern Africa"),
    "Southern Asia": _l("Southern Asia"),
    "Southern Europe": _l("Southern Europe"),
    "Western Africa": _l("Western Africa"),
    "Western Asia": _l("Western Asia"),
    "Western Europe": _l("Western Europe"),
    "Antarctica": _l("Antarctica"),
    UNKNOWN: _l("Other or unknown"),
}


def continent_of(code: str) -> str:
    """The M49 region of a country code (Africa, Americas, Asia, Europe, Oceania, Antarctica) or UNKNOWN."""
    return REGIONS.get(code, (UNKNOWN, UNKNOWN))[0]


def subregion_of(code: str) -> str:
    """The M49 sub-region of a country code (e.g. 'Eastern Asia') or UNKNOWN."""
    return REGIONS.get(code, (UNKNOWN, UNKNOWN))[1]


@lru_cache(maxsize=len(CONTINENTS))
def countries_in(continent: str) -> tuple[str, ...]:
    """Every country code of one M49 region, sorted; empty for a name that is not a region."""
    return tuple(sorted(code for code, (region, _sub) in REGIONS.items() if region == continent))
