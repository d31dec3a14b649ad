"""Countries and regions from pycountry (ISO 3166-1), with the host's overrides from COUNTRY_NAMES."""

import unicodedata
from functools import lru_cache

import pycountry
from flask import current_app


def _sort_key(label: str) -> str:
    """Sort 'Åland Islands' with A and 'Côte d'Ivoire' with C, ignoring case and accents."""
    decomposed = unicodedata.normalize("NFKD", label)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def flag(code: str) -> str:
    """The flag emoji of an alpha-2 code, built from Unicode regional indicator letters."""
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        return ""
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in code.upper())


@lru_cache(maxsize=1)
def _iso_names() -> dict[str, str]:
    """Every ISO 3166-1 alpha-2 code with the name people use for it."""
    return {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}


def country_names() -> dict[str, str]:
    """Code → label for every selectable country or region, sorted by label (do not modify it)."""
    overrides = current_app.config.get("COUNTRY_NAMES") or {}
    return _merged_names(tuple(sorted((code.upper(), label) for code, label in overrides.items())))


@lru_cache(maxsize=8)
def _merged_names(overrides: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """ISO names with the overrides applied, sorted by label; cached per set of overrides."""
    names = dict(_iso_names())
    names.update(overrides)
    return dict(sorted(names.items(), key=lambda item: _sort_key(item[1])))


def country_name(code: str) -> str:
    """The label for one code, or the code itself if it is unknown."""
    return country_names().get(code, code)
