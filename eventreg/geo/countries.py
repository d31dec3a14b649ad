"""Countries and regions named in the reader's language, as CLDR names them (Babel's territory names: 中国, Chine,
China, Китай, الصين), with the host's labels (protocol.py), in the order of ICU's collator for that language (pinyin
for Chinese, accents ignored in French).

The registration form and the public counter are hot paths: every table is built once per language and protocol.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import icu
import pycountry
from babel import Locale, UnknownLocaleError

from ..locale_formats import current_locale
from .protocol import Protocol, current_protocol, lookup_keys

DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True, eq=False)
class CountryList:
    """Every country and region named in one language (shared through a cache: never modify it)."""

    language: str
    names: Mapping[str, str]  # every code known (ISO, CLDR, the host's, hidden ones) → its label
    offered: Mapping[str, str]  # what the registration form offers, code → label, in the collator's order
    rank: Mapping[str, int]  # every known code → its place in that order, to sort other lists of codes

    def name(self, code: str) -> str:
        """The label of one code, or the code itself when nobody names it."""
        return self.names.get(code, code)

    def sorted(self, codes: Iterable[str]) -> list[str]:
        """Codes in the order of their labels (unknown codes last, by code)."""
        last = len(self.rank)
        return sorted(codes, key=lambda code: (self.rank.get(code, last), code))


def reader_language(language=None) -> str:
    """The language asked for, else the request's (or a mail's, under force_locale), else English."""
    if language is None:
        language = current_locale()  # None outside an app context
    return str(language) if language else DEFAULT_LANGUAGE


def countries(language=None) -> CountryList:
    """The table of the reader's language (or `language`: a Babel identifier such as 'zh_Hans' or a Locale)."""
    return _country_list(current_protocol(), reader_language(language))


def country_name(code: str, language=None) -> str:
    """The label of one code in the reader's language, or the code itself when nobody names it."""
    return countries(language).name(code)


def country_names(language=None) -> Mapping[str, str]:
    """Code → label of every country or region the registration form offers, in order (read-only)."""
    return countries(language).offered


@lru_cache(maxsize=16)
def collator(language: str) -> icu.Collator:
    """ICU's collator for a language (CLDR's tailoring: pinyin for zh_Hans, the Cyrillic order for ru…)."""
    return icu.Collator.createInstance(icu.Locale(language))


def sort_key(language=None) -> Callable[[str], bytes]:
    """A key that sorts text as readers of the language expect, e.g. sorted(labels, key=sort_key())."""
    return collator(reader_language(language)).getSortKey


@lru_cache(maxsize=1)
def _iso_names() -> Mapping[str, str]:
    """Every ISO 3166-1 alpha-2 code with its English name (for the few codes CLDR would not name)."""
    return {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}


def _cldr_names(language: str) -> dict[str, str]:
    """CLDR's names of the two-letter territories in a language (English for a language Babel lacks)."""
    try:
        territories = Locale.parse(language).territories
    except (UnknownLocaleError, ValueError):
        territories = Locale.parse(DEFAULT_LANGUAGE).territories
    return {code: name for code, name in territories.items() if len(code) == 2 and code.isalpha()}


def _host_label(labels: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    return next((labels[key] for key in keys if key in labels), None)


@lru_cache(maxsize=64)
def _country_list(protocol: Protocol, language: str) -> CountryList:
    """Build one language's table: CLDR's names, the host's labels over them, sorted by the collator."""
    names = {**_iso_names(), **_cldr_names(language)}
    keys = lookup_keys(language)
    for code, labels in protocol.labels:
        names[code] = _host_label(dict(labels), keys) or names.get(code, code)
    key = collator(language).getSortKey
    ordered = sorted(names, key=lambda code: (key(names[code]), code))
    offered = (set(_iso_names()) | {code for code, _labels in protocol.labels}) - protocol.hidden
    return CountryList(
        language=language,
        names=MappingProxyType(names),
        offered=MappingProxyType({code: names[code] for code in ordered if code in offered}),
        rank=MappingProxyType({code: place for place, code in enumerate(ordered)}),
    )
