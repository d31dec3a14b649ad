"""The event form's time zone select: current canonical zones, grouped by region, named in the reader's language
with their UTC offset now; an older alias an event was stored with stays valid and chosen."""

from datetime import UTC, datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

import pytz
from babel.dates import get_timezone_location
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from ..locale_formats import current_locale
from .rules import utc_offset

# The regions of IANA names, as the time zone select groups them, in the tz database's order.
REGIONS = {
    "Africa": _l("Africa"),
    "America": _l("America"),
    "Antarctica": _l("Antarctica"),
    "Arctic": _l("Arctic"),
    "Asia": _l("Asia"),
    "Atlantic": _l("Atlantic Ocean"),
    "Australia": _l("Australia"),
    "Europe": _l("Europe"),
    "Indian": _l("Indian Ocean"),
    "Pacific": _l("Pacific Ocean"),
}
OTHER_REGION = _l("Other")


@cache
def known_timezones() -> frozenset[str]:
    """Every name zoneinfo accepts here, old aliases (Africa/Asmera) included: an event may have one stored."""
    return frozenset(available_timezones())


@cache
def canonical_timezones() -> tuple[str, ...]:
    """The current zones people choose from: pytz's common_timezones (the tz database's zone.tab: no backward
    links such as Africa/Asmera or Asia/Calcutta) within the regions, the legacy US/… and Canada/… names left
    out, and UTC; only those this system's zoneinfo knows."""
    regional = (name for name in pytz.common_timezones if name.split("/", 1)[0] in REGIONS)
    return tuple(name for name in (*regional, "UTC") if name in known_timezones())


@lru_cache(maxsize=16)
def _zone_names(locale: str) -> tuple[tuple[str, str], ...]:
    """(IANA name, localized name) of every canonical zone, e.g. ("Asia/Shanghai", "China (Shanghai) Time"),
    in the region order and alphabetical within a region; Babel's names cost ~0.15 s a language, so kept."""
    return tuple(sorted(((name, _localized_zone_name(name, locale)) for name in canonical_timezones()), key=_order))


def _order(item: tuple[str, str]) -> tuple[int, str]:
    """UTC first, then the regions in REGIONS' order (any other last), each alphabetical by localized name."""
    name, label = item
    regions = list(REGIONS)
    region = name.split("/", 1)[0]
    position = -1 if name == "UTC" else regions.index(region) if region in REGIONS else len(regions)
    return position, label.casefold()


def _localized_zone_name(name: str, locale: str) -> str:
    """CLDR's location name of a zone; UTC is no location ("Unknown Region (UTC) Time"), so it stays UTC."""
    return "UTC" if name == "UTC" else get_timezone_location(name, locale=locale)


@cache
def _zone(name: str) -> ZoneInfo:
    """The zone of a name, held: zoneinfo's own cache keeps only a few, and reading ~420 files costs ~30 ms."""
    return ZoneInfo(name)


def timezone_choices(current: str | None = None) -> list[SelectChoice]:
    """The time zone select: every canonical zone with its localized name and current UTC offset, grouped by
    region. `current`, an older alias an event was stored with (still valid for zoneinfo), is added so it
    stays chosen."""
    locale = str(current_locale())
    now = datetime.now(UTC)
    named = list(_zone_names(locale))
    if current and current not in canonical_timezones() and current in known_timezones():
        named = sorted([*named, (current, f"{_localized_zone_name(current, locale)} – {current}")], key=_order)
    groups = {region: str(label) for region, label in REGIONS.items()}  # translated once, not once per zone
    other = str(OTHER_REGION)
    choices = [SelectChoice("", _l("Choose a time zone"))]
    for name, label in named:
        group = None if name == "UTC" else groups.get(name.split("/", 1)[0], other)
        choices.append(SelectChoice(name, f"{label} ({utc_offset(now.astimezone(_zone(name)))})", optgroup=group))
    return choices
