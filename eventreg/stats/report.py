"""Every number of one event, computed once per committed state of its registrations and cached.

`event_numbers` reads the running tallies (tallies.py) and keeps only language-neutral numbers (codes, counts,
days), cached per stats_version (cache.py); the public functions add names in the request's language and the
event's own fields on every call, so an edit of the event (title, capacity) shows at once, and two callers never
share a mutable dict.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..categories.services import category_labels
from ..geo.countries import countries
from ..geo.flags import flag_url
from ..geo.regions import CONTINENT_LABELS, CONTINENTS, SUBREGION_LABELS, UNKNOWN, continent_of, subregion_of
from ..models import SEAT_HOLDING, Status
from ..registration.capacity import seats_left
from . import aggregates, tallies
from .cache import cached_numbers

TOP_INSTITUTIONS = 10
_HOLDING = frozenset(status.value for status in SEAT_HOLDING)


@dataclass(frozen=True)
class EventNumbers:
    """The language-neutral numbers of one event at one stats_version (immutable: it is shared through the cache)."""

    by_status: tuple[tuple[str, int], ...]
    holding_by_country: tuple[tuple[str, int], ...]
    confirmed_by_country: tuple[tuple[str, int], ...]
    by_category: tuple[tuple[str, int], ...]
    institutions: tuple[tuple[str, int], ...]
    extras: aggregates.Extras
    daily: tuple[tuple[date, int], ...]

    @property
    def seat_holding(self) -> int:
        """Seat-holding registrations (confirmed and pending)."""
        return sum(count for _, count in self.holding_by_country)

    @property
    def seats_taken(self) -> int:
        """Seat-holding delegates and their accompanying persons: what capacity.seats_held_query() counts, added up
        from the one pass over countries and statuses instead of one more query."""
        return self.seat_holding + self.extras.accompanying


def _daily(event, source) -> tuple[tuple[date, int], ...]:
    """Registrations per local day of the event's zone, every day from the first to the last, empty ones included."""
    zone = ZoneInfo(event.timezone)
    slot_seconds = 3600 if aggregates.whole_hour_zone(zone, event.starts_at) else 900
    per_day: Counter[date] = Counter()
    for slot, count in source.arrivals_per_slot(event.id, slot_seconds):
        per_day[datetime.fromtimestamp(slot * slot_seconds, zone).date()] += count
    if not per_day:
        return ()
    first, last = min(per_day), max(per_day)
    return tuple(
        (first + timedelta(days=n), per_day[first + timedelta(days=n)]) for n in range((last - first).days + 1)
    )


def _compute(event) -> EventNumbers:
    """The numbers of one event from its running tallies (tallies.py: a few hundred rows, whatever the number of
    registrations): what a cache miss costs."""
    return _numbers(event, tallies)


def _recount(event) -> EventNumbers:
    """The same numbers counted afresh from every registration (about five GROUP BYs): what the tallies must
    always equal."""
    return _numbers(event, aggregates)


def _numbers(event, source) -> EventNumbers:
    """EventNumbers from `source`, the tallies or the aggregates (functions of the same names and results)."""
    by_status: Counter[str] = Counter({status.value: 0 for status in Status})
    holding: Counter[str] = Counter()
    confirmed: Counter[str] = Counter()
    accompanying = visa_letters = checked_in = 0
    for row in source.counts_by_country_and_status(event.id):
        by_status[row.status] += row.count
        if row.status in _HOLDING:
            holding[row.country] += row.count
            accompanying += row.accompanying
            visa_letters += row.visa_letters
            checked_in += row.checked_in
        if row.status == Status.CONFIRMED:
            confirmed[row.country] += row.count
    return EventNumbers(
        by_status=tuple(by_status.items()),
        holding_by_country=tuple(sorted(holding.items())),
        confirmed_by_country=tuple(sorted(confirmed.items())),
        by_category=tuple(source.delegates_per_category(event.id).items()),
        institutions=tuple(source.top_institutions(event.id, TOP_INSTITUTIONS)),
        extras=aggregates.Extras(accompanying, visa_letters, checked_in),
        daily=_daily(event, source),
    )


def event_numbers(event) -> EventNumbers:
    """The numbers of `event` for the data this session sees: from the cache when that state was counted before
    (per timezone: the days are the event's)."""
    return cached_numbers("report", event.id, lambda: _compute(event), event.timezone)


def _iso_utc(moment: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 in UTC, e.g. 2026-05-01T08:00:00Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _by_continent(rows: list[dict]) -> list[dict]:
    """Fold per-country rows into M49 continents and their sub-regions, largest first."""
    continents: dict[str, Counter[str]] = {}
    for row in rows:
        subregions = continents.setdefault(continent_of(row["code"]), Counter())
        subregions[subregion_of(row["code"])] += row["count"]
    order = {name: position for position, name in enumerate((*CONTINENTS, UNKNOWN))}
    result = [
        {
            "continent": continent,
            "name": str(CONTINENT_LABELS[continent]),
            "count": sum(subregions.values()),
            "subregions": sorted(
                (
                    {"subregion": sub, "name": str(SUBREGION_LABELS.get(sub, sub)), "count": count}
                    for sub, count in subregions.items()
                ),
                key=lambda item: (-item["count"], item["subregion"]),
            ),
        }
        for continent, subregions in continents.items()
    ]
    result.sort(key=lambda item: (-item["count"], order[item["continent"]]))
    return result


def _country_rows(counts: tuple[tuple[str, int], ...]) -> list[dict]:
    """[{code, name, count, share}] most first, ties by name in the reader's order, names in the reader's language."""
    names = countries()
    last = len(names.rank)
    total = sum(count for _, count in counts)
    rows = [
        {"code": code, "name": names.name(code), "count": count, "share": count / total if total else 0.0}
        for code, count in counts
    ]
    rows.sort(key=lambda row: (-row["count"], names.rank.get(row["code"], last), row["code"]))
    return rows


def event_report(event) -> dict:
    """Every number of the dashboard as a JSON-ready dict (served as-is at /api/v1/events/<slug>/stats)."""
    # The event's category labels in the reader's language, read before the numbers: the numbers' version is read
    # last, so a report from the cache is as fresh as that read.
    labels = category_labels(event.id)
    numbers = event_numbers(event)
    by_country = _country_rows(numbers.holding_by_country)
    seats = numbers.seats_taken
    cumulative = 0
    daily = []
    for day, count in numbers.daily:
        cumulative += count
        daily.append({"date": day.isoformat(), "registrations": count, "cumulative": cumulative})
    return {
        "event": {
            "slug": event.slug,
            "title": event.title,
            "starts_at": _iso_utc(event.starts_at),
            "ends_at": _iso_utc(event.ends_at),
            "timezone": event.timezone,
            "capacity": event.capacity,
        },
        "totals_by_status": dict(numbers.by_status),
        "registrations": sum(count for _, count in numbers.by_status),
        "seats_taken": seats,
        "capacity": event.capacity,
        "seats_left": seats_left(event.capacity, seats),
        "countries_represented": len(by_country),
        "accompanying_persons": numbers.extras.accompanying,
        "visa_letters_requested": numbers.extras.visa_letters,
        "by_country": by_country,
        "by_continent": _by_continent(by_country),
        "by_category": [
            # A code the event no longer has keeps its stored value as its name.
            {"category": category, "name": labels.get(category, category), "count": count}
            for category, count in numbers.by_category
        ],
        "top_institutions": [{"institution": name, "count": count} for name, count in numbers.institutions],
        "daily": daily,
        "checked_in": numbers.extras.checked_in,
    }


def public_counter(event) -> dict:
    """The public counter: confirmed participants of every category, their countries, and how many from each.

    Counts only, never a person; confirmed registrations only (pending ones may still be declined), accompanying
    persons not counted. A country with fewer than the event's `public_min_country_count` participants is not
    named: those countries are counted together under `other_countries`, so a lone delegate cannot be picked
    out. `participants` and `countries` still count them: a total identifies nobody.
    """
    rows = _country_rows(event_numbers(event).confirmed_by_country)
    named = [row for row in rows if row["count"] >= event.public_min_country_count]
    grouped = [row for row in rows if row["count"] < event.public_min_country_count]
    return {
        "event": {"slug": event.slug, "title": event.title},
        "participants": sum(row["count"] for row in rows),
        "countries": len(rows),
        "min_country_count": event.public_min_country_count,
        "by_country": [
            {"code": row["code"], "name": row["name"], "flag": flag_url(row["code"]), "count": row["count"]}
            for row in named
        ],
        "other_countries": {"countries": len(grouped), "participants": sum(row["count"] for row in grouped)},
    }


@dataclass(frozen=True)
class EventSummary:
    """The headline numbers of an event."""

    by_status: dict[str, int]
    total: int
    seats_taken: int
    capacity: int | None
    countries: int

    @property
    def seats_left(self) -> int | None:
        """Free seats, or None when the event has no capacity."""
        return seats_left(self.capacity, self.seats_taken)


def event_summary(event) -> EventSummary:
    """Totals by status, seats and countries of one event (cached like the report)."""
    numbers = event_numbers(event)
    by_status = dict(numbers.by_status)
    return EventSummary(
        by_status=by_status,
        total=sum(by_status.values()),
        seats_taken=numbers.seats_taken,
        capacity=event.capacity,
        countries=len(numbers.holding_by_country),
    )
