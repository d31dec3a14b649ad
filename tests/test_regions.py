"""Continents and sub-regions (UN M49) for every country the registration form offers."""

import pycountry
import pytest

from eventreg.geo.regions import CONTINENTS, SUBREGION_LABELS, UNKNOWN, continent_of, countries_in, subregion_of


def test_every_iso_country_has_a_continent_and_a_sub_region():
    missing = [c.alpha_2 for c in pycountry.countries if continent_of(c.alpha_2) == UNKNOWN]
    assert missing == []
    assert all(subregion_of(c.alpha_2) in SUBREGION_LABELS for c in pycountry.countries)


@pytest.mark.parametrize(
    ("code", "continent", "subregion"),
    [
        ("GB", "Europe", "Northern Europe"),  # coco writes '^GB$|^UK$'
        ("GR", "Europe", "Southern Europe"),  # coco writes '^GR$|^EL$'
        ("NA", "Africa", "Southern Africa"),  # Namibia, not a missing value
        ("CN", "Asia", "Eastern Asia"),
        ("BR", "Americas", "South America"),
        ("US", "Americas", "Northern America"),
        ("NZ", "Oceania", "Australia and New Zealand"),
        ("XK", "Europe", "Southern Europe"),
    ],
)
def test_known_countries(code, continent, subregion):
    assert (continent_of(code), subregion_of(code)) == (continent, subregion)


def test_unknown_codes_fall_under_unknown():
    assert continent_of("ZZ") == UNKNOWN and subregion_of("ZZ") == UNKNOWN


def test_each_continent_lists_its_countries():
    assert "GB" in countries_in("Europe") and "CN" in countries_in("Asia")
    assert sum(len(countries_in(continent)) for continent in CONTINENTS) == 250
    assert countries_in("Atlantis") == ()
