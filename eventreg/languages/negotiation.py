"""Accept-Language negotiated against the offered languages, script subtags understood.

Babel's negotiate_locale compares identifiers as strings with one separator on both sides and falls back only to
the part before the first separator, so `zh-Hant-TW`, `zh-TW` or `zh-SG` never meet a `zh_Hans` catalog. Here each
language range of the header is read as a Babel Locale (aliases resolved, and the script implied by the region or
the language filled in from CLDR's likely subtags: zh-TW is zh_Hant_TW, zh and zh-SG are zh_Hans), then matched
with the offered languages by language, script and region. A range whose script has no catalog falls back to
another catalog of its language (zh-Hant-TW gets zh_Hans while no zh_Hant is offered).
"""

import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from werkzeug.http import parse_list_header

# Browsers send a few ranges; a longer header is read up to here (the rest cannot matter after so many choices).
MAX_HEADER_LENGTH = 500
MAX_RANGES = 16
# A language range as RFC 4647 writes it (subtags of 1 to 8 letters or digits), and the parts of it that choose a
# catalog: language[-Script][-REGION]; what follows (variants, extensions, private use) is left out.
_WELL_FORMED = re.compile(r"[a-z]{1,8}(?:-[a-z0-9]{1,8})*", re.IGNORECASE)
_RANGE = re.compile(r"([a-z]{2,3})(?:-([a-z]{4}))?(?:-([a-z]{2}|[0-9]{3}))?(?:-|$)", re.IGNORECASE)
_QUALITY = re.compile(r"\s*q\s*=\s*(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)\s*$", re.IGNORECASE)


def ranges_by_preference(header: str) -> list[str]:
    """The language ranges of an Accept-Language header, most wanted first (equal weights in the header's order),
    without those weighted q=0, the wildcard and malformed entries."""
    weighted = []
    for position, item in enumerate(parse_list_header(header[:MAX_HEADER_LENGTH])[:MAX_RANGES]):
        tag, _semicolon, parameter = item.partition(";")
        quality = 1.0
        if parameter:
            match = _QUALITY.match(parameter)
            if match is None:
                continue
            quality = float(match.group(1))
        tag = tag.strip().replace("_", "-")
        if quality > 0 and tag != "*":
            weighted.append((-quality, position, tag))
    return [tag for _quality, _position, tag in sorted(weighted)]


def parse_range(tag: str) -> Locale | None:
    """A language range as a Babel Locale with its script filled in (None when Babel does not know it)."""
    match = _RANGE.match(tag) if _WELL_FORMED.fullmatch(tag) else None
    if match is None:
        return None
    language, script, region = match.groups()
    identifier = "_".join(
        part for part in (language.lower(), script and script.title(), region and region.upper()) if part
    )
    try:
        locale = Locale.parse(identifier)
    except (ValueError, UnknownLocaleError):
        return None
    if locale.script is None:
        likely = get_global("likely_subtags").get(locale.language)
        if likely:
            locale = Locale(locale.language, locale.territory, Locale.parse(likely).script)
    return locale


@lru_cache(maxsize=64)
def _offered_locales(offered: tuple[str, ...]) -> tuple[tuple[str, Locale], ...]:
    return tuple((code, Locale.parse(code)) for code in offered)


def best_offered(wanted: Locale, offered: tuple[str, ...]) -> str | None:
    """The offered language that serves `wanted` best: the most specific one whose script and region (where it
    names them) agree; else the first of the same language in another script; else None."""
    same_language = [(code, locale) for code, locale in _offered_locales(offered) if locale.language == wanted.language]
    agreeing = [
        (code, (locale.script is not None) + (locale.territory is not None))
        for code, locale in same_language
        if locale.script in (None, wanted.script) and locale.territory in (None, wanted.territory)
    ]
    if agreeing:
        return max(agreeing, key=lambda item: item[1])[0]  # max() keeps the first of equals: the configured order
    return same_language[0][0] if same_language else None


@lru_cache(maxsize=1024)
def negotiate(header: str, offered: tuple[str, ...]) -> str | None:
    """The offered language (a Babel identifier of `offered`) that an Accept-Language header asks for first, or
    None when it asks for none of them. Cached per header: browsers send the same few."""
    for tag in ranges_by_preference(header):
        wanted = parse_range(tag)
        if wanted is not None:
            match = best_offered(wanted, offered)
            if match is not None:
                return match
    return None
